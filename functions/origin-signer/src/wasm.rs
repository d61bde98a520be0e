//! Raw WebAssembly exports for the Node.js handler (no wasm-bindgen: the ABI is three
//! functions and JSON).
//!
//! ```text
//! ptr = portcullis_alloc(len)            // JS writes the UTF-8 input JSON at ptr
//! out = portcullis_handle(ptr, len)      // u64: (output ptr << 32) | output len; frees input
//! ... JS reads the output JSON ...
//! portcullis_free(out_ptr, out_len)
//! ```
//!
//! The input and output shapes are those of [`crate::edge::handle_json`].

/// Allocates `len` bytes for the caller to fill; release with [`portcullis_free`].
#[unsafe(no_mangle)]
pub extern "C" fn portcullis_alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// Frees a buffer returned by [`portcullis_alloc`] or [`portcullis_handle`].
///
/// # Safety
/// `ptr`/`len` must come from one of those calls and be freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn portcullis_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        // SAFETY: the buffer was allocated by a Vec<u8> with capacity `len` (see above).
        drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
    }
}

/// Runs the signer on the JSON input at `ptr` (taking ownership of it) and returns the output
/// JSON's location packed as `(ptr << 32) | len`.
///
/// # Safety
/// `ptr`/`len` must come from [`portcullis_alloc`] and hold initialised bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn portcullis_handle(ptr: *mut u8, len: usize) -> u64 {
    // SAFETY: allocated by portcullis_alloc(len) and filled by the caller.
    let input = unsafe { Vec::from_raw_parts(ptr, len, len) };
    let output = crate::edge::handle_json(&input).into_boxed_slice();
    let out_len = output.len();
    let out_ptr = Box::into_raw(output) as *mut u8;
    ((out_ptr as usize as u64) << 32) | out_len as u64
}
