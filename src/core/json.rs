//! A small, strict JSON reader and writer, so neither the wasm nor the event schema needs serde.
//!
//! Numbers are integers only: nothing this crate reads (revisions, days, milliseconds) is
//! fractional, and leaving out float parsing keeps the wasm small. Nesting is capped so hostile
//! input cannot exhaust the stack.

use std::fmt;

/// Deepest nesting [`parse`] accepts.
pub const MAX_DEPTH: usize = 32;

/// A parsed JSON value. Objects keep their order; duplicate keys are an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Why a text is not JSON this reader accepts; `at` is a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// "invalid JSON at byte {at}: {what}"
    Syntax { at: usize, what: &'static str },
    /// "JSON nested deeper than {MAX_DEPTH} levels"
    TooDeep,
    /// "duplicate key \"{0}\""
    DuplicateKey(String),
}

impl JsonError {
    /// Appends the error's text. With `push_str` and [`write_int`] only, so printing a config
    /// error in the wasm needs no `core::fmt` (see `ConfigError::message`).
    pub fn write_to(&self, out: &mut String) {
        match self {
            JsonError::Syntax { at, what } => {
                out.push_str("invalid JSON at byte ");
                write_int(out, *at as i64);
                out.push_str(": ");
                out.push_str(what);
            }
            JsonError::TooDeep => {
                out.push_str("JSON nested deeper than ");
                write_int(out, MAX_DEPTH as i64);
                out.push_str(" levels");
            }
            JsonError::DuplicateKey(key) => {
                out.push_str("duplicate key \"");
                out.push_str(key);
                out.push('"');
            }
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for JsonError {}

impl Value {
    /// The type name used in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Looks a key up in an object; `None` for other kinds.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
///
/// ```
/// use consent_banner::core::json::{parse, Value};
/// let v = parse(r#"{"a": [1, true, "x"]}"#).unwrap();
/// assert_eq!(v.get("a"), Some(&Value::Array(vec![Value::Int(1), Value::Bool(true), Value::Str("x".into())])));
/// assert!(parse("1.5").is_err());
/// ```
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut p = Parser { text, s: text.as_bytes(), i: 0, error: JsonError::TooDeep };
    let v = p.value(0).and_then(|v| {
        p.ws();
        if p.i == p.s.len() {
            Ok(v)
        } else {
            Err(p.err("trailing characters"))
        }
    });
    v.map_err(|Failed| p.error)
}

/// A parse failed; the parser holds the reason. A zero-sized error keeps each `?` in the
/// recursive descent free of copying (the reason is stored once, where it is found).
struct Failed;

struct Parser<'a> {
    text: &'a str,
    s: &'a [u8],
    i: usize,
    /// Why it failed, once it has.
    error: JsonError,
}

impl Parser<'_> {
    fn err(&mut self, what: &'static str) -> Failed {
        self.fail(JsonError::Syntax { at: self.i, what })
    }

    #[cold]
    fn fail(&mut self, e: JsonError) -> Failed {
        self.error = e;
        Failed
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Failed> {
        if depth > MAX_DEPTH {
            return Err(self.fail(JsonError::TooDeep));
        }
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.int(),
            _ if self.eat(b"true") => Ok(Value::Bool(true)),
            _ if self.eat(b"false") => Ok(Value::Bool(false)),
            _ if self.eat(b"null") => Ok(Value::Null),
            _ => Err(self.err("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Failed> {
        self.i += 1;
        let mut entries: Vec<(String, Value)> = Vec::new();
        self.ws();
        if self.eat(b"}") {
            return Ok(Value::Object(entries));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(b":") {
                return Err(self.err("expected ':'"));
            }
            let v = self.value(depth + 1)?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(self.fail(JsonError::DuplicateKey(key)));
            }
            entries.push((key, v));
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"}") {
                return Ok(Value::Object(entries));
            }
            return Err(self.err("expected ',' or '}'"));
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Failed> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat(b"]") {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"]") {
                return Ok(Value::Array(items));
            }
            return Err(self.err("expected ',' or ']'"));
        }
    }

    fn int(&mut self) -> Result<Value, Failed> {
        let neg = self.eat(b"-");
        let start = self.i;
        // Unsigned and compared with constants: `i64::checked_mul` compiles to a 128-bit multiply
        // (`__multi3`) that nothing else in the banner needs. Measured: −82 B brotli.
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.s.get(self.i).copied() {
            // Up to i64::MAX / 10, `n * 10 + 9` fits in a u64.
            n = if n <= i64::MAX as u64 / 10 { n * 10 + u64::from(d - b'0') } else { u64::MAX };
            if n > i64::MAX as u64 {
                return Err(self.fail(JsonError::Syntax { at: start, what: "integer out of range" }));
            }
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 {
            return Err(self.err("expected a digit"));
        }
        if digits > 1 && self.s[start] == b'0' {
            return Err(self.fail(JsonError::Syntax { at: start, what: "leading zero" }));
        }
        if let Some(b'.' | b'e' | b'E') = self.s.get(self.i) {
            return Err(self.err("only integers are accepted"));
        }
        let n = n as i64;
        Ok(Value::Int(if neg { -n } else { n }))
    }

    fn hex4(&mut self) -> Result<u32, Failed> {
        let mut n = 0u32;
        for _ in 0..4 {
            // char::to_digit rather than three byte ranges (measured: −6 B brotli).
            let d = match self.s.get(self.i).and_then(|&c| char::from(c).to_digit(16)) {
                Some(d) => d,
                None => return Err(self.err("bad \\u escape")),
            };
            n = n * 16 + d;
            self.i += 1;
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, Failed> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // The input is a &str and runs start and stop only at ASCII bytes, so they are char
            // boundaries: slicing the &str needs no UTF-8 re-validation (which cost 660 B of wasm).
            out.push_str(&self.text[start..self.i]);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.s.get(self.i).copied().ok_or_else(|| self.err("unexpected end"))?;
                    self.i += 1;
                    out.push(match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return Err(self.err("bad escape")),
                    });
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn unicode(&mut self) -> Result<char, Failed> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.eat(b"\\u") {
                return Err(self.err("lone surrogate"));
            }
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.err("lone surrogate"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.err("lone surrogate"))
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028/2029 are escaped too so the text is safe inside a <script> block.
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' || c == '<' => {
                out.push_str("\\u");
                let n = c as u32;
                for shift in &[12, 8, 4, 0] {
                    out.push(hex_digit((n >> shift) & 0xF));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A run of 1 to `max_len` (≤ 18) ASCII digits as a number; anything else is `None`. Cheaper than
/// `str::parse`, whose sign and overflow handling the wasm would otherwise carry.
///
/// ```
/// use consent_banner::core::json::read_digits;
/// assert_eq!(read_digits("0042", 4), Some(42));
/// assert_eq!(read_digits("12345", 4), None);
/// assert_eq!(read_digits("-1", 4), None);
/// assert_eq!(read_digits("", 4), None);
/// ```
pub fn read_digits(s: &str, max_len: usize) -> Option<i64> {
    if s.is_empty() || s.len() > max_len.min(18) {
        return None;
    }
    s.as_bytes().iter().try_fold(0i64, |n, &b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
}

/// Appends a decimal integer.
pub fn write_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    write_digits(out, n.unsigned_abs());
}

/// The digits of `m`, most significant first: recursion instead of a digit buffer filled
/// backwards (measured: −13 B brotli).
fn write_digits(out: &mut String, m: u64) {
    if m >= 10 {
        write_digits(out, m / 10);
    }
    out.push(char::from(b'0' + (m % 10) as u8));
}

/// Writes any [`Value`] compactly.
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => write_int(out, *n),
        Value::Str(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

pub(crate) fn hex_digit(n: u32) -> char {
    char::from_digit(n & 0xF, 16).unwrap_or('0')
}

/// Appends `b` as two lowercase hex digits.
pub(crate) fn push_hex(out: &mut String, b: u8) {
    out.push(hex_digit(u32::from(b >> 4)));
    out.push(hex_digit(u32::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_documents() {
        let v = parse(r#" {"a": {"b": [null, false, -12, "q\"\u00e9\ud83d\ude00"]}} "#).unwrap();
        let inner = v.get("a").and_then(|a| a.get("b")).unwrap();
        assert_eq!(
            inner,
            &Value::Array(vec![Value::Null, Value::Bool(false), Value::Int(-12), Value::Str("q\"é😀".into())])
        );
    }

    #[test]
    fn rejects_what_it_should() {
        for bad in [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.0", "1e3", "\"\\x\"", "\"a", "tru", "{} x", "\"\u{1}\"",
            "\"\\ud800\"", "99999999999999999999", "{a:1}", "-",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(parse("9223372036854775807"), Ok(Value::Int(i64::MAX)));
        for out_of_range in ["9223372036854775808", "-9223372036854775808", "10000000000000000000", "92233720368547758070"] {
            assert!(matches!(parse(out_of_range), Err(JsonError::Syntax { at: _, what: "integer out of range" })), "{out_of_range}");
        }
        assert_eq!(parse(r#"{"a":1,"a":2}"#), Err(JsonError::DuplicateKey("a".into())));
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(parse(&deep), Err(JsonError::TooDeep));
    }

    #[test]
    fn writes_what_it_reads() {
        let text = r#"{"s":"a\"b\\c\n\u0001<\u2028","n":-9223372036854775807,"l":[true,null,{}]}"#;
        let v = parse(text).unwrap();
        let mut out = String::new();
        write_value(&mut out, &v);
        assert_eq!(parse(&out).unwrap(), v);
        assert!(!out.contains('<'));
        let mut n = String::new();
        write_int(&mut n, i64::MIN);
        assert_eq!(n, "-9223372036854775808");
    }

    #[test]
    fn never_panics_on_mutated_documents() {
        use crate::core::mutate::{text_mutants, EXAMPLE_CONFIGS};
        let (mut ok, mut err) = (0, 0);
        for (i, seed) in EXAMPLE_CONFIGS.iter().enumerate() {
            for m in text_mutants(seed, 20_000, i as u64 + 1) {
                match parse(&m) {
                    // What it accepts, it writes back as JSON it accepts again, unchanged.
                    Ok(v) => {
                        let mut out = String::new();
                        write_value(&mut out, &v);
                        assert_eq!(parse(&out).as_ref(), Ok(&v), "{m}");
                        ok += 1;
                    }
                    Err(e) => {
                        let mut msg = String::new();
                        e.write_to(&mut msg);
                        assert!(!msg.is_empty());
                        err += 1;
                    }
                }
            }
        }
        // Both branches must be exercised, or the mutations are not reaching the reader.
        assert!(ok > 1_000 && err > 10_000, "ok {ok}, err {err}");
        for hostile in ["[".repeat(100_000), "{\"a\":".repeat(50_000), "\"\\u".repeat(10_000), "-".repeat(1000)] {
            assert!(parse(&hostile).is_err());
        }
    }
}
