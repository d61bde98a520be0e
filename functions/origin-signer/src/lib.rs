//! SigV4 origin signer core (placeholder).
