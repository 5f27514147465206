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

/// The report being built, one stored event at a time: per day, each consent id's latest
/// decision as a bit set over the site's categories (bit `i` = `categories[i]` granted), so the
/// memory is a few dozen bytes per consent id and day, not the events themselves.
pub struct Tally {
    categories: Vec<String>,
    from_day: i64,
    days: Vec<HashMap<String, u32>>,
}

impl Tally {
    /// An empty tally for the days `from_day..=to_day`; at most 32 categories (as in an event).
    pub fn new(categories: &[String], from_day: i64, to_day: i64) -> Tally {
        let span = usize::try_from(to_day - from_day + 1).unwrap_or(0);
        Tally {
            categories: categories.to_vec(),
            from_day,
            days: (0..span).map(|_| HashMap::new()).collect(),
        }
    }

    /// One stored event, in commit order: it replaces an earlier one of its consent id that day.
    /// Events outside the range or that do not parse are skipped.
    pub fn add(&mut self, received_at: i64, consent_id: &str, payload: &str) {
        let Ok(i) = usize::try_from(day_of(received_at) - self.from_day) else {
            return;
        };
        let (Some(day), Ok(event)) = (
            self.days.get_mut(i),
            ConsentEvent::parse(payload.as_bytes()),
        ) else {
            return;
        };
        let granted = self
            .categories
            .iter()
            .enumerate()
            .filter(|(_, c)| event.choice(c) == Some(true))
            .fold(0u32, |m, (b, _)| m | 1 << b);
        match day.get_mut(consent_id) {
            Some(m) => *m = granted,
            None => {
                day.insert(consent_id.to_owned(), granted);
            }
        }
    }

    /// The JSON report for `site` (the shape above).
    pub fn report(&self, site: &str) -> Value {
        let days: Vec<Value> = self
            .days
            .iter()
            .enumerate()
            .map(|(i, day)| {
                let decisions = day.len();
                let mut granted = Map::new();
                let mut counts = Map::new();
                for (b, cat) in self.categories.iter().enumerate() {
                    let n = day.values().filter(|m| *m & (1 << b) != 0).count();
                    let share = if decisions == 0 {
                        0.0
                    } else {
                        n as f64 / decisions as f64
                    };
                    granted.insert(cat.clone(), json!(share));
                    counts.insert(cat.clone(), json!(n));
                }
                json!({
                    "date": format_date(self.from_day + i as i64),
                    "decisions": decisions,
                    "granted": granted,
                    "granted_count": counts,
                })
            })
            .collect();
        let to_day = self.from_day + self.days.len() as i64 - 1;
        json!({
            "site": site,
            "from": format_date(self.from_day),
            "to": format_date(to_day),
            "counting": "latest decision per consent_id per UTC day",
            "days": days,
        })
    }
}
