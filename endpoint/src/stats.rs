//! Daily consent statistics (aggregates only) for `GET /v1/stats`.
//!
//! Counting rule: per UTC day (by server receive time), each consent id counts once, with the
//! **latest** decision it made that day; `decisions` is the number of such consent ids, and
//! `granted.<category>` the share of them (0.0–1.0) whose latest decision granted the category
//! (`granted_count` the same as a count). Every day of the range is listed, empty days with 0.
//! Erased events are not counted. Every action counts as a decision (including `gpc`).
//!
//! ```json
//! {"site":"rufio-marketing","from":"2026-11-24","to":"2026-11-25",
//!  "counting":"latest decision per consent_id per UTC day",
//!  "days":[{"date":"2026-11-24","decisions":4,
//!           "granted":{"essential":1.0,"analytics":0.5,"marketing":0.25},
//!           "granted_count":{"essential":4,"analytics":2,"marketing":1}},
//!          {"date":"2026-11-25","decisions":0,"granted":{…0.0},"granted_count":{…0}}]}
//! ```

use crate::time::{day_of, format_date};
use consent_banner::core::event::ConsentEvent;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Builds the report from `(received_at, consent_id, payload)` rows in commit order.
pub fn report(
    site: &str,
    categories: &[String],
    from_day: i64,
    to_day: i64,
    rows: &[(i64, String, String)],
) -> Value {
    let span = usize::try_from(to_day - from_day + 1).unwrap_or(0);
    // Per day: consent id -> its latest event there (rows arrive in commit order).
    let mut latest: Vec<HashMap<&str, ConsentEvent>> = (0..span).map(|_| HashMap::new()).collect();
    for (at, consent_id, payload) in rows {
        let Ok(i) = usize::try_from(day_of(*at) - from_day) else {
            continue;
        };
        let (Some(day), Ok(event)) = (latest.get_mut(i), ConsentEvent::parse(payload.as_bytes()))
        else {
            continue;
        };
        day.insert(consent_id.as_str(), event);
    }
    let days: Vec<Value> = latest
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let decisions = day.len();
            let mut granted = Map::new();
            let mut counts = Map::new();
            for cat in categories {
                let n = day.values().filter(|e| e.choice(cat) == Some(true)).count();
                let share = if decisions == 0 {
                    0.0
                } else {
                    n as f64 / decisions as f64
                };
                granted.insert(cat.clone(), json!(share));
                counts.insert(cat.clone(), json!(n));
            }
            json!({
                "date": format_date(from_day + i as i64),
                "decisions": decisions,
                "granted": granted,
                "granted_count": counts,
            })
        })
        .collect();
    json!({
        "site": site,
        "from": format_date(from_day),
        "to": format_date(to_day),
        "counting": "latest decision per consent_id per UTC day",
        "days": days,
    })
}
