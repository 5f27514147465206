//! The stored consent record: who (pseudonymously), under which revision, chose what, and when.

/// A visitor's stored decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Random, pseudonymous; stays the same across the visitor's later changes.
    pub consent_id: String,
    /// The config revision the choice was made under.
    pub revision: u32,
    /// Unix seconds of the first decision.
    pub first_decision: i64,
    /// Unix seconds of the latest decision; the lifetime counts from here.
    pub last_decision: i64,
    /// Per category: granted or not. May name categories the current site does not know: sites
    /// sharing one cookie keep each other's choices.
    pub choices: Vec<(String, bool)>,
    /// The browser sent Global Privacy Control when this decision was made.
    pub under_gpc: bool,
}

impl Record {
    /// The stored choice for `category`, if the record has one.
    ///
    /// ```
    /// use consent_banner::core::record::Record;
    /// let r = Record { consent_id: "0".repeat(32), revision: 1, first_decision: 1, last_decision: 1,
    ///                  choices: vec![("analytics".into(), true)], under_gpc: false };
    /// assert_eq!(r.choice("analytics"), Some(true));
    /// assert_eq!(r.choice("marketing"), None);
    /// ```
    pub fn choice(&self, category: &str) -> Option<bool> {
        self.choices.iter().find(|(c, _)| c == category).map(|(_, g)| *g)
    }

    /// Sets the choice for `category`, keeping the other choices, also those this site does not know.
    pub fn set(&mut self, category: &str, granted: bool) {
        match self.choices.iter_mut().find(|(c, _)| c == category) {
            Some(slot) => slot.1 = granted,
            None => self.choices.push((String::from(category), granted)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_unknown_categories() {
        let mut r = Record {
            consent_id: "a".repeat(32),
            revision: 1,
            first_decision: 10,
            last_decision: 10,
            choices: vec![("essential".into(), true), ("analytics".into(), false), ("marketing".into(), true)],
            under_gpc: false,
        };
        r.set("essential", true);
        r.set("analytics", true);
        assert_eq!(r.choice("analytics"), Some(true));
        assert_eq!(r.choice("marketing"), Some(true));
        r.set("extra", false);
        assert_eq!(r.choices.len(), 4);
    }
}
