//! A small subset of XSD regular expressions, matched in linear time, for the `pattern` facets the
//! service proof checks itself.
//!
//! Only ASCII classes and literals, groups, alternatives and quantifiers are read, and counted
//! repetitions (`{n,m}`) only on a single character or class, so every pattern read here means
//! the same to libxml2; `\d` is read as `[0-9]` (XSD's also takes other scripts' digits: stricter).
//! Anything else (`.`, `\w`, `\p{…}`, negated classes, subtractions, `^`, `$`) is refused, and the
//! schema's values stay with libxml2.

/// A compiled pattern: an automaton over ASCII characters, simulated state set by state set.
#[derive(Debug, Clone)]
pub struct Pattern {
    states: Vec<State>,
    start: usize,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// One character of the set (bit `c` for ASCII `c`), then the next state.
    Char(u128, usize),
    /// Either state, without reading.
    Split(usize, usize),
    Match,
}

/// A parsed expression.
#[derive(Debug)]
enum Node {
    Class(u128),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// Bounds that keep a hostile or huge schema pattern from costing more than a few kilobytes.
const MAX_COUNT: u32 = 256;
const MAX_STATES: usize = 1024;
/// Longer values are left to libxml2 (the simulation costs length × states).
const MAX_CHARS: usize = 1024;

impl Pattern {
    /// Reads `p`, or `None` when it is outside the subset.
    pub fn compile(p: &str) -> Option<Self> {
        let chars: Vec<char> = p.chars().collect();
        let mut i = 0;
        let node = alternatives(&chars, &mut i, 0)?;
        if i != chars.len() {
            return None;
        }
        let mut states = vec![State::Match];
        let start = build(&node, 0, &mut states)?;
        Some(Self { states, start })
    }

    /// Whether the whole of `s` matches (XSD patterns are anchored at both ends).
    pub fn matches(&self, s: &str) -> bool {
        let n = self.states.len();
        let mut seen = vec![usize::MAX; n];
        let mut current = Vec::with_capacity(n);
        let mut next = Vec::with_capacity(n);
        self.add(self.start, 0, &mut seen, &mut current);
        for (step, c) in s.chars().enumerate() {
            if !c.is_ascii() || step >= MAX_CHARS {
                return false;
            }
            let bit = 1u128 << u32::from(c);
            next.clear();
            for &at in &current {
                if let Some(State::Char(set, to)) = self.states.get(at) {
                    if set & bit != 0 {
                        self.add(*to, step + 1, &mut seen, &mut next);
                    }
                }
            }
            if next.is_empty() {
                return false;
            }
            std::mem::swap(&mut current, &mut next);
        }
        current
            .iter()
            .any(|&at| matches!(self.states.get(at), Some(State::Match)))
    }

    /// Adds `at` and every state reachable from it without reading, once per `step`.
    fn add(&self, at: usize, step: usize, seen: &mut [usize], out: &mut Vec<usize>) {
        let mut stack = vec![at];
        while let Some(s) = stack.pop() {
            match seen.get_mut(s) {
                Some(mark) if *mark != step => *mark = step,
                _ => continue,
            }
            match self.states.get(s) {
                Some(State::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(_) => out.push(s),
                None => {}
            }
        }
    }
}

/// Builds `node` so that it continues to `next`; returns its first state.
fn build(node: &Node, next: usize, states: &mut Vec<State>) -> Option<usize> {
    let push = |s: State, states: &mut Vec<State>| {
        states.push(s);
        (states.len() <= MAX_STATES).then(|| states.len() - 1)
    };
    match node {
        Node::Class(set) => push(State::Char(*set, next), states),
        Node::Seq(items) => items
            .iter()
            .rev()
            .try_fold(next, |to, item| build(item, to, states)),
        Node::Alt(branches) => {
            let mut starts = Vec::with_capacity(branches.len());
            for b in branches {
                starts.push(build(b, next, states)?);
            }
            let mut at = starts.pop()?;
            while let Some(s) = starts.pop() {
                at = push(State::Split(s, at), states)?;
            }
            Some(at)
        }
        Node::Repeat(body, min, max) => {
            let mut at = match max {
                None => {
                    // A loop: the body returns to the split that either repeats it or leaves.
                    let split = push(State::Split(next, next), states)?;
                    let first = build(body, split, states)?;
                    states[split] = State::Split(first, next);
                    split
                }
                Some(max) => {
                    let mut at = next;
                    for _ in *min..*max {
                        let first = build(body, at, states)?;
                        at = push(State::Split(first, at), states)?;
                    }
                    at
                }
            };
            for _ in 0..*min {
                at = build(body, at, states)?;
            }
            Some(at)
        }
    }
}

fn alternatives(c: &[char], i: &mut usize, depth: usize) -> Option<Node> {
    if depth > 8 {
        return None;
    }
    let mut branches = vec![sequence(c, i, depth)?];
    while c.get(*i) == Some(&'|') {
        *i += 1;
        branches.push(sequence(c, i, depth)?);
    }
    Some(if branches.len() == 1 {
        branches.pop()?
    } else {
        Node::Alt(branches)
    })
}

fn sequence(c: &[char], i: &mut usize, depth: usize) -> Option<Node> {
    let mut items = Vec::new();
    while let Some(&ch) = c.get(*i) {
        if ch == '|' || ch == ')' {
            break;
        }
        let (atom, single) = match ch {
            '(' => {
                *i += 1;
                let inner = alternatives(c, i, depth + 1)?;
                if c.get(*i) != Some(&')') {
                    return None;
                }
                *i += 1;
                (inner, false)
            }
            '[' => (Node::Class(class(c, i)?), true),
            '\\' => (Node::Class(escape(c, i)?), true),
            _ => {
                *i += 1;
                (Node::Class(literal(ch)?), true)
            }
        };
        items.push(quantified(c, i, atom, single)?);
    }
    Some(Node::Seq(items))
}

/// `?`, `*`, `+` on any atom; `{n}`, `{n,}`, `{n,m}` on a single character or class only.
fn quantified(c: &[char], i: &mut usize, atom: Node, single: bool) -> Option<Node> {
    let (min, max) = match c.get(*i) {
        Some('?') => (0, Some(1)),
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('{') if single => {
            let len = c[*i..].iter().position(|&x| x == '}')?;
            let inner: String = c[*i + 1..*i + len].iter().collect();
            *i += len;
            let number = |s: &str| -> Option<u32> {
                let n = (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<u32>().ok())??;
                (n <= MAX_COUNT).then_some(n)
            };
            match inner.split_once(',') {
                None => {
                    let n = number(&inner)?;
                    (n, Some(n))
                }
                Some((lo, "")) => (number(lo)?, None),
                Some((lo, hi)) => {
                    let (lo, hi) = (number(lo)?, number(hi)?);
                    (lo <= hi).then_some((lo, Some(hi)))?
                }
            }
        }
        _ => return Some(atom),
    };
    *i += 1;
    Some(Node::Repeat(Box::new(atom), min, max))
}

/// A literal outside a class: printable ASCII other than the metacharacters (and `^`, `$`).
fn literal(ch: char) -> Option<u128> {
    let plain = (' '..='~').contains(&ch) && !".\\?*+{}()[]|^$".contains(ch);
    plain.then(|| bit(ch))
}

fn bit(ch: char) -> u128 {
    1u128 << u32::from(ch)
}

fn digits() -> u128 {
    ('0'..='9').map(bit).fold(0, |a, b| a | b)
}

/// `\d`, `\n`, `\r`, `\t` or an escaped metacharacter.
fn escape(c: &[char], i: &mut usize) -> Option<u128> {
    let e = *c.get(*i + 1)?;
    *i += 2;
    match e {
        'd' => Some(digits()),
        'n' => Some(bit('\n')),
        'r' => Some(bit('\r')),
        't' => Some(bit('\t')),
        _ if "\\|.-^?*+{}()[]".contains(e) => Some(bit(e)),
        _ => None,
    }
}

/// A positive class of ASCII characters, ranges and escapes; `-` only as a range between two
/// characters (escaped otherwise), so no subtraction and no reading that could differ.
fn class(c: &[char], i: &mut usize) -> Option<u128> {
    *i += 1;
    let mut set = 0u128;
    let member = |c: &[char], i: &mut usize| -> Option<(u128, Option<char>)> {
        match *c.get(*i)? {
            '\\' => {
                let e = *c.get(*i + 1)?;
                let s = escape(c, i)?;
                Some((s, (e != 'd').then(|| single(s)).flatten()))
            }
            ch if (' '..='~').contains(&ch) && !"[]-^\\".contains(ch) => {
                *i += 1;
                Some((bit(ch), Some(ch)))
            }
            _ => None,
        }
    };
    loop {
        if c.get(*i) == Some(&']') {
            *i += 1;
            return (set != 0).then_some(set);
        }
        let (s, ch) = member(c, i)?;
        if c.get(*i) == Some(&'-') {
            *i += 1;
            let lo = ch?;
            let (_, hi) = member(c, i)?;
            let hi = hi?;
            if lo > hi {
                return None;
            }
            set |= (lo..=hi).map(bit).fold(0, |a, b| a | b);
        } else {
            set |= s;
        }
    }
}

/// The one character of a one-character set.
fn single(set: u128) -> Option<char> {
    (set.count_ones() == 1)
        .then(|| char::from_u32(set.trailing_zeros()))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::compile(s).unwrap_or_else(|| panic!("{s} compiles"))
    }

    #[test]
    fn the_bundled_patterns_match_as_xsd_reads_them() {
        let amount = p(r"\d+\.\d{2}");
        assert!(amount.matches("0.01") && amount.matches("120.50"));
        for bad in [
            "1.5", ".50", "1.500", "1", " 1.00", "1.00 ", "١.٠٠", "a.bc", "",
        ] {
            assert!(!amount.matches(bad), "{bad}");
        }
        let fiscal = p("[0-9]{11}");
        assert!(fiscal.matches("77777777777"));
        assert!(!fiscal.matches("7777777777") && !fiscal.matches("777777777777"));
        let email = p(r"[a-zA-Z0-9_\.\+\-]+@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*");
        for good in ["a@b", "mario.rossi+x@comune.forli.it", "_-.@a-b", "a@b.c.d"] {
            assert!(email.matches(good), "{good}");
        }
        for bad in [
            "@b", "a@", "a@b.", "a@b..c", "a b@c", "a@b@c", "à@b", "a@b_c",
        ] {
            assert!(!email.matches(bad), "{bad}");
        }
        let cf = p("[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]");
        assert!(cf.matches("RSSMRA80A01H501U") && cf.matches("RSSMRALPALMH5LMU"));
        assert!(!cf.matches("RSSMRA80A01H501") && !cf.matches("rssmra80a01h501u"));
        assert!(!cf.matches("RSSMRA80F01H501U"));
    }

    #[test]
    fn groups_alternatives_and_bounds() {
        let x = p("(ab|c)*d?");
        for good in ["", "ab", "cab", "ababcd", "d"] {
            assert!(x.matches(good), "{good}");
        }
        for bad in ["a", "abd d", "dd", "ba"] {
            assert!(!x.matches(bad), "{bad}");
        }
        let y = p("a{2,3}b{2,}|-");
        assert!(y.matches("aabb") && y.matches("aaabbbb") && y.matches("-"));
        assert!(!y.matches("abb") && !y.matches("aaaabb") && !y.matches("aab"));
        // An empty loop body does not loop forever.
        assert!(p("(a*)*").matches("aaa") && p("(a|)+").matches(""));
    }

    #[test]
    fn what_might_read_differently_is_refused() {
        for refused in [
            ".",
            r"\w",
            r"\s",
            r"\p{L}",
            r"\i",
            "[^a]",
            "[a-z-[aeiou]]",
            "[-a]",
            "[a-]",
            "^a",
            "a$",
            "(a){2}",
            "a{2,1}",
            "a{1000}",
            "a**",
            "(a",
            "a)",
            "[]",
            "[z-a]",
            "è",
            r"\",
            "a{2",
            "(?:a)",
            r"[\d-z]",
        ] {
            assert!(Pattern::compile(refused).is_none(), "{refused}");
        }
        // So many states that a schema could make the proof slow: left to libxml2.
        assert!(Pattern::compile(&"[a-z]{256}".repeat(8)).is_none());
    }

    #[test]
    fn long_and_non_ascii_values_are_not_matched() {
        let any = p("[a-z]*");
        assert!(any.matches(&"a".repeat(MAX_CHARS)));
        assert!(!any.matches(&"a".repeat(MAX_CHARS + 1)));
        assert!(!any.matches("aé"));
    }
}
