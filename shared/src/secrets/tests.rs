use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

fn lines(raw: &SecretString) -> Result<Vec<String>, String> {
    let v: Vec<String> = raw.expose().lines().map(str::to_owned).collect();
    if v.iter().any(|l| l == "bad") {
        return Err("a line is bad".into());
    }
    Ok(v)
}

fn config() -> CacheConfig {
    CacheConfig {
        ttl: Duration::from_secs(60),
        max_stale: Duration::from_secs(30),
        retry_after_error: Duration::from_secs(5),
        jitter: 0.0,
    }
}

fn cache(source: &MemorySource) -> SecretCache<MemorySource, Vec<String>> {
    SecretCache::new(source.clone(), "/p", config(), lines)
}

const S: Duration = Duration::from_secs(1);

#[tokio::test]
async fn serves_from_memory_until_ttl_then_refetches() {
    let source = MemorySource::new("a");
    let cache = cache(&source);
    let t0 = Instant::now();
    assert_eq!(*cache.get(t0).await.unwrap(), vec!["a"]);
    source.set("b");
    assert_eq!(*cache.get(t0 + 59 * S).await.unwrap(), vec!["a"]);
    assert_eq!(source.calls(), 1);
    assert_eq!(*cache.get(t0 + 60 * S).await.unwrap(), vec!["b"]);
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn concurrent_callers_after_expiry_share_one_fetch() {
    let source = MemorySource::new("a");
    let cache = Arc::new(cache(&source));
    let t0 = Instant::now();
    cache.prefetch(t0).await.unwrap();
    source.set("b");
    source.delay(Duration::from_millis(200));
    let later = t0 + 61 * S;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get(later).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(*task.await.unwrap().unwrap(), vec!["b"]);
    }
    assert_eq!(source.calls(), 2, "one prefetch + exactly one refresh");
}

#[tokio::test]
async fn stale_within_bound_then_fails_closed() {
    let source = MemorySource::new("a");
    let cache = cache(&source);
    let t0 = Instant::now();
    cache.get(t0).await.unwrap();
    source.fail(SourceError::Throttled);
    // expired at 60 s; stale allowed until 90 s
    assert_eq!(*cache.get(t0 + 61 * S).await.unwrap(), vec!["a"]);
    assert_eq!(*cache.get(t0 + 89 * S).await.unwrap(), vec!["a"]);
    let err = cache.get(t0 + 90 * S).await.unwrap_err();
    assert_eq!(
        err,
        CacheError::Unavailable {
            name: "/p".into(),
            cause: SourceError::Throttled
        }
    );
    source.set("c");
    // the failed fetch at 89 s holds further fetches back until 94 s
    assert!(cache.get(t0 + 93 * S).await.is_err());
    assert_eq!(source.calls(), 3, "initial, 61 s, 89 s");
    assert_eq!(*cache.get(t0 + 94 * S).await.unwrap(), vec!["c"]);
}

#[tokio::test]
async fn failures_back_off_instead_of_hammering_the_source() {
    let source = MemorySource::new("a");
    let cache = cache(&source);
    let t0 = Instant::now();
    cache.get(t0).await.unwrap();
    source.fail(SourceError::Timeout);
    for i in 0..100u32 {
        cache
            .get(t0 + 61 * S + Duration::from_millis(u64::from(i)))
            .await
            .unwrap();
    }
    assert_eq!(
        source.calls(),
        2,
        "one failed refresh, then the back-off window"
    );
    cache.get(t0 + 66 * S).await.unwrap();
    assert_eq!(source.calls(), 3);
}

#[tokio::test]
async fn invalid_new_value_keeps_last_good_within_bound() {
    let source = MemorySource::new("a\nb");
    let cache = cache(&source);
    let t0 = Instant::now();
    cache.get(t0).await.unwrap();
    source.set("a\nbad");
    assert_eq!(*cache.get(t0 + 60 * S).await.unwrap(), vec!["a", "b"]);
    assert_eq!(
        cache.get(t0 + 91 * S).await.unwrap_err(),
        CacheError::Invalid {
            name: "/p".into(),
            reason: "a line is bad".into()
        }
    );
}

#[tokio::test]
async fn never_fetched_and_failing_is_an_error() {
    let source = MemorySource::default();
    let cache = cache(&source);
    assert!(matches!(
        cache.get(Instant::now()).await,
        Err(CacheError::Unavailable {
            cause: SourceError::NotFound,
            ..
        })
    ));
}

#[test]
fn jitter_only_shortens_the_ttl() {
    let source = MemorySource::new("a");
    let cache = SecretCache::new(
        source,
        "/p",
        CacheConfig {
            jitter: 0.2,
            ..config()
        },
        lines,
    );
    for _ in 0..200 {
        let ttl = cache.jittered_ttl();
        assert!(
            ttl <= Duration::from_secs(60) && ttl >= Duration::from_secs(48),
            "{ttl:?}"
        );
    }
}

#[test]
fn secrets_are_redacted_in_debug_and_display() {
    let s = SecretString::new("hunter2-super-secret");
    assert_eq!(format!("{s:?}"), "SecretString(<20 bytes redacted>)");
    assert_eq!(format!("{s}"), "<redacted>");
    let dbg = format!("{:?}", cache(&MemorySource::new("hunter2")));
    assert!(!dbg.contains("hunter2"), "{dbg}");
}
