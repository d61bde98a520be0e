use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::testing::{FakeClock, FixedCanary, MemoryCdn, MemoryStore};

const OLD: &str = "old-secret-value-0123456789abcdefghij";
const NEW: &str = "NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN";
const TOKEN: &str = "v2";

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

type TestRotator = Rotator<MemoryStore, MemoryCdn, FixedCanary, FakeClock>;

fn rotator(canary_status: Option<u16>) -> TestRotator {
    let clock = FakeClock::at(t0());
    Rotator {
        store: MemoryStore::with_current(OLD, clock.clone()),
        cdn: MemoryCdn::new(&[("api", Some(OLD)), ("static", None)], clock.clone()),
        canary: FixedCanary::answering(canary_status.unwrap_or(200)),
        clock,
        settings: Settings {
            distribution_id: "E2QWRUHAPOMQZL".into(),
            header_name: "x-origin-verify".into(),
            origin_ids: vec![],
            propagation_wait: Duration::from_secs(330),
            grace: Duration::from_secs(60),
            poll: Duration::from_secs(10),
            canary_url: canary_status.map(|_| "https://d1.cloudfront.net/health".into()),
        },
    }
}

fn event(step: Step) -> RotationEvent {
    RotationEvent {
        step,
        secret_id: "arn:aws:secretsmanager:us-east-1:111122223333:secret:origin-AbCdEf".into(),
        client_request_token: TOKEN.into(),
    }
}

/// A Lambda deadline 15 minutes after the clock's now.
fn deadline(r: &TestRotator) -> SystemTime {
    r.clock.now() + Duration::from_secs(900)
}

async fn step(r: &TestRotator, step: Step) -> Result<Outcome, RotationError> {
    r.run(&event(step), deadline(r)).await
}

fn stages(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    pairs
        .iter()
        .map(|(id, s)| (id.to_string(), s.iter().map(|x| x.to_string()).collect()))
        .collect()
}

#[tokio::test]
async fn the_four_steps_accept_first_send_next_retire_last() {
    let r = rotator(Some(200));
    assert_eq!(step(&r, Step::CreateSecret).await, Ok(Outcome::Created));
    assert_eq!(
        r.store.stages(),
        stages(&[("v1", &["AWSCURRENT"]), ("v2", &["AWSPENDING"])])
    );
    assert_eq!(r.store.value_at("AWSPENDING").as_deref(), Some(NEW));
    assert_eq!(r.cdn.sent()[0].1.as_deref(), Some(OLD), "nothing sent yet");

    assert_eq!(step(&r, Step::SetSecret).await, Ok(Outcome::Switched));
    // Switched exactly when the propagation wait after the value's creation ended.
    assert_eq!(
        r.cdn.state.lock().unwrap().switches,
        vec![(t0() + Duration::from_secs(330), NEW.to_owned())]
    );
    assert_eq!(
        r.cdn.sent(),
        vec![("api".into(), Some(NEW.into())), ("static".into(), None)],
        "only the origin that sent the header"
    );

    assert_eq!(step(&r, Step::TestSecret).await, Ok(Outcome::Tested));
    // Two polls in progress, 10 s apart.
    assert_eq!(r.clock.now(), t0() + Duration::from_secs(350));
    assert_eq!(r.canary.calls(), 1);
    assert_eq!(
        r.store.stages(),
        stages(&[("v1", &["AWSCURRENT"]), ("v2", &["AWSPENDING"])]),
        "the old value stays current until finishSecret"
    );

    assert_eq!(step(&r, Step::FinishSecret).await, Ok(Outcome::Finished));
    assert_eq!(
        r.clock.now(),
        t0() + Duration::from_secs(410),
        "after the grace"
    );
    assert_eq!(
        r.store.stages(),
        stages(&[("v1", &["AWSPREVIOUS"]), ("v2", &["AWSCURRENT"])])
    );
}

#[tokio::test]
async fn every_step_run_twice_changes_nothing_the_second_time() {
    let r = rotator(None);
    for (s, again) in [
        (Step::CreateSecret, Outcome::AlreadyCreated),
        (Step::SetSecret, Outcome::AlreadySwitched),
        (Step::TestSecret, Outcome::Tested),
        (Step::FinishSecret, Outcome::AlreadyCurrent),
    ] {
        step(&r, s).await.unwrap();
        let before = (r.store.stages(), r.cdn.sent());
        assert_eq!(step(&r, s).await, Ok(again), "{s:?}");
        assert_eq!((r.store.stages(), r.cdn.sent()), before, "{s:?}");
    }
    assert_eq!(r.cdn.state.lock().unwrap().switches.len(), 1);
    assert_eq!(r.store.value_at("AWSCURRENT").as_deref(), Some(NEW));
}

#[tokio::test]
async fn a_conflicting_update_is_retried_with_the_fresh_distribution() {
    let r = rotator(None);
    step(&r, Step::CreateSecret).await.unwrap();
    r.cdn.state.lock().unwrap().conflicts = 2;
    assert_eq!(step(&r, Step::SetSecret).await, Ok(Outcome::Switched));
    assert_eq!(r.cdn.sent()[0].1.as_deref(), Some(NEW));
    // Backoff 2 s then 4 s after the 330 s wait.
    assert_eq!(
        r.cdn.state.lock().unwrap().switches[0].0,
        t0() + Duration::from_secs(336)
    );
}

#[tokio::test]
async fn endless_conflicts_fail_the_step_and_leave_the_old_value_sent() {
    let r = rotator(None);
    step(&r, Step::CreateSecret).await.unwrap();
    r.cdn.state.lock().unwrap().conflicts = SWITCH_ATTEMPTS;
    assert_eq!(
        step(&r, Step::SetSecret).await,
        Err(RotationError::Switch(SwitchError::Conflict))
    );
    assert_eq!(r.cdn.sent()[0].1.as_deref(), Some(OLD));
    // Secrets Manager's retry succeeds.
    assert_eq!(step(&r, Step::SetSecret).await, Ok(Outcome::Switched));
}

#[tokio::test]
async fn a_wait_longer_than_the_invocation_fails_the_step_before_switching() {
    let r = rotator(None);
    step(&r, Step::CreateSecret).await.unwrap();
    let short = r.clock.now() + Duration::from_secs(100);
    assert_eq!(
        r.run(&event(Step::SetSecret), short).await,
        Err(RotationError::NotYet("the propagation wait"))
    );
    assert_eq!(r.cdn.sent()[0].1.as_deref(), Some(OLD));
    assert_eq!(r.clock.now(), t0(), "gave up without sleeping");
    // Retried later (the wait counts from the version's creation, not from the retry).
    r.clock.sleep(Duration::from_secs(300)).await;
    let short = r.clock.now() + Duration::from_secs(100);
    assert_eq!(
        r.run(&event(Step::SetSecret), short).await,
        Ok(Outcome::Switched)
    );
    assert_eq!(r.clock.now(), t0() + Duration::from_secs(330));
}

#[tokio::test]
async fn a_deployment_outlasting_the_invocation_fails_the_test_step() {
    let r = rotator(None);
    step(&r, Step::CreateSecret).await.unwrap();
    step(&r, Step::SetSecret).await.unwrap();
    r.cdn.state.lock().unwrap().polls_left = 1000;
    let deadline = r.clock.now() + Duration::from_secs(60);
    assert_eq!(
        r.run(&event(Step::TestSecret), deadline).await,
        Err(RotationError::NotYet("the distribution's deployment"))
    );
    assert_eq!(
        r.store.stages(),
        stages(&[("v1", &["AWSCURRENT"]), ("v2", &["AWSPENDING"])])
    );
}

#[tokio::test]
async fn a_refused_canary_switches_cloudfront_back_and_stops() {
    for status in [401, 403] {
        let r = rotator(Some(status));
        step(&r, Step::CreateSecret).await.unwrap();
        step(&r, Step::SetSecret).await.unwrap();
        assert_eq!(
            step(&r, Step::TestSecret).await,
            Err(RotationError::CanaryRefused(status))
        );
        assert_eq!(
            r.cdn.sent(),
            vec![("api".into(), Some(OLD.into())), ("static".into(), None)]
        );
        assert_eq!(
            r.store.stages(),
            stages(&[("v1", &["AWSCURRENT"]), ("v2", &["AWSPENDING"])]),
            "the old value stays current"
        );
        // finishSecret cannot retire the value CloudFront sends.
        assert_eq!(
            step(&r, Step::FinishSecret).await,
            Err(RotationError::NotSwitched("api".into()))
        );
    }
    let r = rotator(Some(500));
    step(&r, Step::CreateSecret).await.unwrap();
    step(&r, Step::SetSecret).await.unwrap();
    assert_eq!(step(&r, Step::TestSecret).await, Ok(Outcome::Tested));
}

#[tokio::test]
async fn steps_out_of_order_or_for_a_foreign_version_fail() {
    let r = rotator(None);
    assert_eq!(
        step(&r, Step::SetSecret).await,
        Err(RotationError::UnknownVersion(TOKEN.into()))
    );
    step(&r, Step::CreateSecret).await.unwrap();
    assert_eq!(
        step(&r, Step::FinishSecret).await,
        Err(RotationError::NotSwitched("api".into()))
    );
    let previous = RotationEvent {
        client_request_token: "v1".into(),
        ..event(Step::SetSecret)
    };
    assert_eq!(
        r.run(&previous, deadline(&r)).await,
        Ok(Outcome::AlreadyCurrent)
    );
    r.store
        .state
        .lock()
        .unwrap()
        .versions
        .insert("v0".into(), (vec!["AWSPREVIOUS".into()], None));
    let old = RotationEvent {
        client_request_token: "v0".into(),
        ..event(Step::CreateSecret)
    };
    assert_eq!(
        r.run(&old, deadline(&r)).await,
        Err(RotationError::NotPending("v0".into()))
    );
}

#[tokio::test]
async fn an_unusable_generated_value_is_not_stored() {
    for bad in [
        "short",
        &format!("{}{}", "a".repeat(40), ",b"),
        &"a b".repeat(20),
    ] {
        let r = rotator(None);
        r.store.state.lock().unwrap().next_value = bad.to_owned();
        assert_eq!(
            step(&r, Step::CreateSecret).await,
            Err(RotationError::BadValue)
        );
        assert_eq!(r.store.stages(), stages(&[("v1", &["AWSCURRENT"])]));
    }
}

#[tokio::test]
async fn origins_are_the_named_ones_or_those_sending_the_header() {
    let r = rotator(None);
    step(&r, Step::CreateSecret).await.unwrap();
    r.cdn.state.lock().unwrap().origins[0].1 = None;
    assert_eq!(
        step(&r, Step::SetSecret).await,
        Err(RotationError::NoOrigin)
    );
    let mut named = rotator(None);
    named.settings.origin_ids = vec!["static".into()];
    step(&named, Step::CreateSecret).await.unwrap();
    assert_eq!(step(&named, Step::SetSecret).await, Ok(Outcome::Switched));
    assert_eq!(
        named.cdn.sent(),
        vec![
            ("api".into(), Some(OLD.into())),
            ("static".into(), Some(NEW.into()))
        ]
    );
}
