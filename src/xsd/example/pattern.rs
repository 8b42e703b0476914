//! Sample values for XSD `pattern` facets: the shortest string a small regular expression matches.

/// The shortest string matching an XSD regular expression made of literals, escapes (`\d`,
/// `\w`, `\s`, escaped metacharacters), classes with ranges, groups with alternatives (the first
/// is taken) and quantifiers (`?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`: the minimum, at least one
/// for `+`). Digit classes yield `1`, so amounts read `1.11` rather than `0.00`.
pub fn sample_pattern(p: &str) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let s = alternatives(&chars, &mut i)?;
    if i != chars.len() {
        return Err(format!("unexpected {:?} at {i}", chars[i]));
    }
    Ok(s)
}

fn alternatives(c: &[char], i: &mut usize) -> Result<String, String> {
    let first = sequence(c, i)?;
    while *i < c.len() && c[*i] == '|' {
        *i += 1;
        sequence(c, i)?;
    }
    Ok(first)
}

fn sequence(c: &[char], i: &mut usize) -> Result<String, String> {
    let mut out = String::new();
    while *i < c.len() && c[*i] != '|' && c[*i] != ')' {
        let atom = match c[*i] {
            '(' => {
                *i += 1;
                let a = alternatives(c, i)?;
                if c.get(*i) != Some(&')') {
                    return Err("unclosed group".into());
                }
                *i += 1;
                a
            }
            '[' => class(c, i)?.to_string(),
            '\\' => escape(c, i)?.to_string(),
            '.' => {
                *i += 1;
                "a".into()
            }
            '^' | '$' | '*' | '+' | '?' | '{' => return Err(format!("{:?} out of place", c[*i])),
            ch => {
                *i += 1;
                ch.to_string()
            }
        };
        let times = quantifier(c, i)?;
        for _ in 0..times {
            out.push_str(&atom);
        }
    }
    Ok(out)
}

fn quantifier(c: &[char], i: &mut usize) -> Result<usize, String> {
    match c.get(*i) {
        Some('?') | Some('*') => {
            *i += 1;
            Ok(0)
        }
        Some('+') => {
            *i += 1;
            Ok(1)
        }
        Some('{') => {
            let end = c[*i..].iter().position(|&x| x == '}').ok_or("unclosed {")?;
            let inner: String = c[*i + 1..*i + end].iter().collect();
            *i += end + 1;
            let min = inner.split(',').next().unwrap_or_default().trim();
            min.parse::<usize>()
                .map_err(|_| format!("quantifier {{{inner}}}"))
        }
        _ => Ok(1),
    }
}

fn escape(c: &[char], i: &mut usize) -> Result<char, String> {
    let e = *c.get(*i + 1).ok_or("trailing backslash")?;
    *i += 2;
    match e {
        'd' => Ok('1'),
        'w' => Ok('a'),
        's' => Ok(' '),
        'n' => Ok('\n'),
        't' => Ok('\t'),
        '.' | '-' | '+' | '\\' | '*' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^'
        | '$' => Ok(e),
        other => Err(format!("escape \\{other}")),
    }
}

/// The first member of a character class (`1` when it starts with a range from `0`).
fn class(c: &[char], i: &mut usize) -> Result<char, String> {
    *i += 1;
    if c.get(*i) == Some(&'^') {
        return Err("negated character class".into());
    }
    let mut first: Option<char> = None;
    while *i < c.len() && c[*i] != ']' {
        let member = if c[*i] == '\\' {
            escape(c, i)?
        } else {
            *i += 1;
            c[*i - 1]
        };
        let is_range = c.get(*i) == Some(&'-') && c.get(*i + 1).is_some_and(|&n| n != ']');
        let pick = if is_range {
            let hi = c[*i + 1];
            *i += 2;
            if member == '0' && hi >= '1' {
                '1'
            } else {
                member
            }
        } else {
            member
        };
        first.get_or_insert(pick);
    }
    if c.get(*i) != Some(&']') {
        return Err("unclosed character class".into());
    }
    *i += 1;
    first.ok_or_else(|| "empty character class".into())
}
