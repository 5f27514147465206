//! State machine tests: first visits, decisions, withdrawal, re-consent, GPC and other tabs.
use super::*;
use crate::core::codec;
use crate::core::config::tests::MINIMAL;
use crate::core::policy::evaluate;

const NOW_MS: i64 = 1_750_000_000_000;

fn cfg() -> Config {
    Config::parse(MINIMAL).unwrap()
}

fn env(seed: u8) -> Env {
    Env { now_ms: NOW_MS, random: [seed; 32] }
}

fn started(stored: Stored, gpc: bool) -> (Machine, Effects) {
    let c = cfg();
    let mut m = Machine::new(&c);
    let fx = m.step(&c, Input::Start { stored, gpc }, env(1));
    (m, fx)
}

fn granted(fx: &Effects) -> Vec<&str> {
    gate::granted(fx.grants.as_ref().unwrap())
}

fn written(fx: &Effects) -> Record {
    match &fx.persist {
        Some(Persist::Write(v)) => codec::decode(v).unwrap(),
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn first_visit_shows_banner_and_grants_only_essential() {
    let (mut m, fx) = started(Stored::Missing, false);
    assert_eq!(fx.view, Some(View::Banner));
    assert_eq!(granted(&fx), vec!["essential"]);
    assert_eq!(fx.persist, None);
    assert_eq!(fx.report, None);
    assert!(!fx.signal, "no Consent Mode update before a decision: the (region) defaults stand");
    assert_eq!(m.consent_id(), None);
    let c = cfg();
    assert!(m.step(&c, Input::AcceptAll(Surface::FirstLayer), env(2)).signal);
    // A returning visitor's stored decision is signalled at start.
    let (_, fx) = started(Stored::Valid(written(&m.step(&c, Input::RejectAll(Surface::Api), env(3))).clone()), false);
    assert!(fx.signal);
}

#[test]
fn accept_all_then_reload() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    let fx = m.step(&c, Input::AcceptAll(Surface::FirstLayer), env(2));
    assert_eq!(fx.view, Some(View::Hidden));
    assert_eq!(fx.changed, vec!["analytics", "marketing"]);
    assert!(fx.withdrawn.is_empty());
    let r = written(&fx).clone();
    assert_eq!(r.consent_id, "02".repeat(16));
    assert_eq!(r.revision, 2);
    assert_eq!((r.first_decision, r.last_decision), (NOW_MS / 1000, NOW_MS / 1000));
    let rep = fx.report.unwrap();
    assert_eq!((rep.action, rep.surface), (Action::AcceptAll, Surface::FirstLayer));
    assert_eq!(rep.consent_id, r.consent_id);
    assert!(ids::is_uuid(&rep.event_id));
    assert!(rep.choices.iter().all(|(_, g)| *g));

    // Reload: the stored record applies, no banner, nothing reported or written.
    let stored = evaluate(Some(&codec::encode(&r)), &c, NOW_MS / 1000 + 60);
    let (m2, fx2) = started(stored, false);
    assert_eq!(fx2.view, Some(View::Hidden));
    assert_eq!(granted(&fx2), vec!["essential", "analytics", "marketing"]);
    assert_eq!((fx2.persist, fx2.report), (None, None));
    assert_eq!(m2.consent_id(), Some(r.consent_id.as_str()));
}

#[test]
fn reject_all_is_remembered_like_acceptance() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    let fx = m.step(&c, Input::RejectAll(Surface::FirstLayer), env(2));
    assert_eq!(granted(&fx), vec!["essential"]);
    assert!(fx.changed.is_empty());
    assert_eq!(fx.report.as_ref().unwrap().action, Action::RejectAll);
    let stored = evaluate(Some(&codec::encode(&written(&fx))), &c, NOW_MS / 1000 + 100 * 86_400);
    let (_, fx2) = started(stored, false);
    assert_eq!(fx2.view, Some(View::Hidden));
}

#[test]
fn customize_and_withdraw_keep_the_consent_id() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    assert_eq!(m.step(&c, Input::ShowPreferences, env(2)).view, Some(View::Preferences));
    let fx = m.step(&c, Input::Choose(vec!["analytics".into(), "marketing".into()], Surface::Preferences), env(2));
    assert_eq!(fx.report.as_ref().unwrap().action, Action::Custom);
    let id = m.consent_id().unwrap().to_string();
    // Re-open and withdraw marketing.
    assert_eq!(m.step(&c, Input::ShowPreferences, env(3)).view, Some(View::Preferences));
    let fx = m.step(&c, Input::Choose(vec!["analytics".into()], Surface::Preferences), env(3));
    assert_eq!(fx.withdrawn, vec!["marketing"]);
    assert_eq!(fx.changed, vec!["marketing"]);
    let rep = fx.report.unwrap();
    assert_eq!(rep.action, Action::Withdraw);
    assert_eq!(rep.consent_id, id);
    assert_ne!(rep.event_id, ids::uuid_v4(&[2; 16]));
    assert_eq!(written(&Effects { persist: fx.persist, ..Effects::default() }).first_decision, NOW_MS / 1000);
}

#[test]
fn required_categories_cannot_be_refused() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    let fx = m.step(&c, Input::Choose(vec![], Surface::Api), env(2));
    assert_eq!(granted(&fx), vec!["essential"]);
    let fx = m.step(&c, Input::Choose(vec!["nonsense".into()], Surface::Api), env(2));
    assert_eq!(granted(&fx), vec!["essential"]);
}

#[test]
fn closing_grants_nothing() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    m.step(&c, Input::ShowPreferences, env(2));
    let fx = m.step(&c, Input::ClosePreferences, env(2));
    assert_eq!(fx.view, Some(View::Banner));
    assert_eq!((fx.grants, fx.persist, fx.report), (None, None, None));
    m.step(&c, Input::RejectAll(Surface::FirstLayer), env(2));
    m.step(&c, Input::ShowPreferences, env(2));
    assert_eq!(m.step(&c, Input::ClosePreferences, env(2)).view, Some(View::Hidden));
}

#[test]
fn reset_forgets_and_withdraws() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    let accepted = m.step(&c, Input::AcceptAll(Surface::Api), env(2));
    let fx = m.step(&c, Input::Reset, env(3));
    assert_eq!(fx.persist, Some(Persist::Clear));
    assert_eq!(fx.view, Some(View::Banner));
    assert_eq!(fx.withdrawn, vec!["analytics", "marketing"]);
    assert_eq!(m.consent_id(), None);
    // The proof log learns of it: a withdrawal under the old id, everything optional refused.
    let rep = fx.report.expect("reset after a grant is reported");
    assert_eq!((rep.action, rep.surface), (Action::Withdraw, Surface::Api));
    assert_eq!(rep.consent_id, accepted.report.unwrap().consent_id);
    assert_eq!(rep.choices, vec![("essential", true), ("analytics", false), ("marketing", false)]);
    // Forgetting nothing granted reports nothing.
    assert_eq!(m.step(&c, Input::Reset, env(4)).report, None);
    // The next decision gets a new id.
    let fx = m.step(&c, Input::RejectAll(Surface::FirstLayer), env(4));
    assert_eq!(written(&fx).consent_id, "04".repeat(16));
}

#[test]
fn outdated_records_ask_again_with_the_same_id() {
    let c = cfg();
    let old = Record {
        consent_id: "ee".repeat(16),
        revision: 1,
        first_decision: 5,
        last_decision: 6,
        choices: vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), true)],
        under_gpc: false,
    };
    for stored in [Stored::RevisionChanged(old.clone()), Stored::Expired(old.clone())] {
        let (mut m, fx) = started(stored, false);
        assert_eq!(fx.view, Some(View::Banner));
        assert_eq!(granted(&fx), vec!["essential"], "old grants must not apply");
        // What the lapsed consent allowed may have left cookies: they go at once, and no
        // Consent Mode update is needed (the default already denies everything).
        assert_eq!(fx.withdrawn, vec!["analytics", "marketing"]);
        assert!(!fx.signal && fx.report.is_none() && fx.persist.is_none());
        let fx = m.step(&c, Input::RejectAll(Surface::FirstLayer), env(9));
        assert_eq!(fx.report.as_ref().map(|r| r.action), Some(Action::RejectAll), "a new decision, not a withdrawal");
        let r = written(&fx);
        assert_eq!(r.consent_id, old.consent_id);
        assert_eq!(r.revision, 2);
        assert_eq!(r.first_decision, NOW_MS / 1000);
    }
    for stored in [Stored::FutureDated, Stored::Corrupt(codec::CodecError::UnknownVersion)] {
        let (mut m, fx) = started(stored, false);
        assert_eq!(granted(&fx), vec!["essential"]);
        let fx = m.step(&c, Input::RejectAll(Surface::FirstLayer), env(9));
        assert_eq!(written(&fx).consent_id, "09".repeat(16));
    }
}

#[test]
fn a_sibling_sites_record_is_kept_when_saving() {
    let c = cfg();
    let from_app = Record {
        consent_id: "aa".repeat(16),
        revision: 2,
        first_decision: 5,
        last_decision: NOW_MS / 1000,
        choices: vec![("essential".into(), true), ("analytics".into(), true), ("support-chat".into(), true)],
        under_gpc: false,
    };
    let (mut m, fx) = started(Stored::Incomplete(from_app.clone()), false);
    assert_eq!(fx.view, Some(View::Banner), "marketing was never decided");
    assert_eq!(granted(&fx), vec!["essential", "analytics"]);
    let fx = m.step(&c, Input::Choose(vec!["analytics".into()], Surface::Preferences), env(2));
    let r = written(&fx);
    assert_eq!(r.consent_id, from_app.consent_id);
    assert_eq!(r.first_decision, 5);
    assert_eq!(r.choice("support-chat"), Some(true));
    assert_eq!(r.choice("marketing"), Some(false));
}

#[test]
fn gpc_turns_marketing_off_before_any_interaction() {
    let c = cfg();
    let (mut m, fx) = started(Stored::Missing, true);
    assert_eq!(fx.view, Some(View::Banner));
    assert!(m.gpc_honoured);
    let r = written(&fx).clone();
    assert!(r.under_gpc);
    assert_eq!(r.choice("marketing"), Some(false));
    assert_eq!(r.choice("analytics"), None);
    let rep = fx.report.unwrap();
    assert_eq!((rep.action, rep.surface), (Action::Gpc, Surface::Signal));
    assert_eq!(granted(&Effects { grants: fx.grants, ..Effects::default() }), vec!["essential"]);

    // Next page: nothing new to report, banner still asks about analytics.
    let stored = evaluate(Some(&codec::encode(&r)), &c, NOW_MS / 1000);
    let (_, fx2) = started(stored, true);
    assert_eq!((fx2.persist, fx2.report), (None, None));
    assert_eq!(fx2.view, Some(View::Banner));

    // An explicit opt-in under GPC is stored and survives the signal.
    let fx = m.step(&c, Input::AcceptAll(Surface::FirstLayer), env(3));
    let r = written(&fx).clone();
    assert!(r.under_gpc && r.choice("marketing") == Some(true));
    assert_eq!(fx.report.unwrap().action, Action::AcceptAll);
    let stored = evaluate(Some(&codec::encode(&r)), &c, NOW_MS / 1000);
    let (_, fx3) = started(stored, true);
    assert_eq!(fx3.persist, None);
    assert!(granted(&fx3).contains(&"marketing"));
}

#[test]
fn gpc_overrides_an_allow_given_without_it() {
    let _c = cfg();
    let before = Record {
        consent_id: "bb".repeat(16),
        revision: 2,
        first_decision: NOW_MS / 1000 - 10,
        last_decision: NOW_MS / 1000 - 10,
        choices: vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), true)],
        under_gpc: false,
    };
    let (m, fx) = started(Stored::Valid(before.clone()), true);
    assert_eq!(fx.view, Some(View::Hidden));
    assert_eq!(granted(&fx), vec!["essential", "analytics"]);
    // Marketing was allowed on earlier visits, so its cookies may be there: they go.
    assert_eq!(fx.withdrawn, vec!["marketing"]);
    let r = written(&fx);
    assert_eq!((r.consent_id.as_str(), r.choice("marketing"), r.under_gpc), (before.consent_id.as_str(), Some(false), true));
    assert_eq!(fx.report.unwrap().action, Action::Gpc);
    assert!(m.gpc_honoured);
    // The signal is not a decision of the visitor's: their choice keeps its age and expires on
    // time.
    assert_eq!((r.first_decision, r.last_decision), (before.first_decision, before.last_decision));
}

#[test]
fn gpc_marks_a_decision_that_already_refused_its_categories() {
    let refused = Record {
        consent_id: "dd".repeat(16),
        revision: 2,
        first_decision: NOW_MS / 1000 - 10,
        last_decision: NOW_MS / 1000 - 10,
        choices: vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), false)],
        under_gpc: false,
    };
    let (m, fx) = started(Stored::Valid(refused.clone()), true);
    // GPC turns nothing off, but the decision now stands under the signal: stored and reported.
    assert_eq!((fx.changed.as_slice(), fx.withdrawn.as_slice()), (["analytics"].as_slice(), [].as_slice()));
    let r = written(&fx);
    assert!(r.under_gpc);
    assert_eq!((r.choices.as_slice(), r.last_decision), (refused.choices.as_slice(), refused.last_decision));
    assert_eq!(fx.report.unwrap().action, Action::Gpc);
    assert!(m.gpc_honoured);

    // Already under the signal: nothing to write; the notice shows only while GPC refuses something.
    let marked = Record { under_gpc: true, ..refused.clone() };
    let (m, fx) = started(Stored::Valid(marked.clone()), true);
    assert_eq!((fx.persist, fx.report), (None, None));
    assert_eq!(m.record.as_ref(), Some(&marked));
    assert!(m.gpc_honoured);
    let opted_in = Record { under_gpc: true, choices: vec![("analytics".into(), true), ("marketing".into(), true)], ..refused };
    let (m, fx) = started(Stored::Valid(opted_in), true);
    assert_eq!((fx.persist, fx.report), (None, None));
    assert!(!m.gpc_honoured);
}

#[test]
fn another_tabs_change_applies_without_reload() {
    let c = cfg();
    let (mut m, _) = started(Stored::Missing, false);
    let other = Record {
        consent_id: "cc".repeat(16),
        revision: 2,
        first_decision: 1,
        last_decision: NOW_MS / 1000,
        choices: vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), false)],
        under_gpc: false,
    };
    let fx = m.step(&c, Input::External(Stored::Valid(other.clone())), env(5));
    assert_eq!(fx.view, Some(View::Hidden));
    assert_eq!(fx.changed, vec!["analytics"]);
    assert_eq!((fx.persist, fx.report), (None, None), "the other tab already stored and reported it");
    // The other tab resets: we ask again.
    let fx = m.step(&c, Input::External(Stored::Missing), env(5));
    assert_eq!(fx.view, Some(View::Banner));
    assert_eq!(fx.withdrawn, vec!["analytics"]);
}
