use std::collections::BTreeMap;

use super::support::{is_acme_solver, is_nginx_canary};
use crate::controller::Controller;
use crate::inventory::{PathType, Route};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags paths that ingress-nginx routes differently from what the Ingress API promises,
    /// because of regular expressions on the same host.
    ///
    /// Kubernetes path matching has no shadowing: an `Exact` match wins, then the longest
    /// `Prefix` (element-wise, so `/api` never matches `/apiary`), whatever the order of the
    /// Ingresses. A broad `Prefix: /` next to `Exact: /api`, or `Exact` and `Prefix` on the
    /// same path, are both fine and are not flagged.
    ///
    /// ingress-nginx breaks that promise on a host where any Ingress (of the same class) sets
    /// `nginx.ingress.kubernetes.io/use-regex: "true"` or a `rewrite-target`: it then writes
    /// **every** path of that host, from every Ingress, as a case-insensitive regular
    /// expression `~* "^<path>"`, sorted by descending path length, and nginx takes the first
    /// that matches. Tollgate rebuilds those locations (including the controller's extra
    /// `Exact` location for each `Prefix` path) and replays sample requests for every literal
    /// path of the host: the path itself, `<path>/x` and `<path>x`. It reports, once per path
    /// and with the first example:
    /// - a path **shadowed**: a request that the path should serve by Kubernetes semantics goes
    ///   to another backend, e.g. a regex path `/[a-z]+/admin.*` of another Ingress, sorted
    ///   first because it is longer, captures `/shop/admin`; or `/login/x`, which `Prefix: /`
    ///   should serve, lands on `Exact: /login` now that it means `^/login`. A regex path counts
    ///   as shadowing only when it matches the shadowed path itself: requests that merely fit
    ///   its pattern and would otherwise fall to a broader path (`/` for `/blog/admin`) are the
    ///   regex's to serve;
    /// - a path **widened**: an `Exact` or `Prefix` path of an Ingress that did not opt into
    ///   regular expressions now also serves requests no route should serve (`Exact: /login`
    ///   answering `/login/x`, `Prefix: /api` answering `/apiary`).
    ///
    /// Not reported: hosts without `use-regex`/`rewrite-target` (nginx's own prefix matching
    /// then agrees with Kubernetes), other controllers (none applies regexes host-wide),
    /// case-insensitivity alone (`/API`), the regex Ingress's own regex paths among themselves,
    /// requests that reach the same Service and port either way, canary and cert-manager
    /// solver Ingresses, and regular expressions using syntax Tollgate does not evaluate
    /// (look-around, back-references, possessive quantifiers).
    ///
    /// ## Why is this bad?
    /// The team that wrote the literal path has no way to see from its own Ingress that another
    /// Ingress changed its matching: requests reach the wrong service (an admin path served by
    /// a public catch-all, an API path served by a regex route of another team), or a backend
    /// answers URLs it was never meant to expose. The ingress-nginx documentation warns about
    /// it; nothing checks for it.
    ///
    /// ## Example
    /// ```yaml
    /// # Ingress shop/web (no annotations):   shop.example.com  Prefix /shop/admin → admin
    /// # Ingress shop/seo (use-regex: "true"): shop.example.com  ImplementationSpecific /[a-z]+/admin.* → seo
    /// # /shop/admin/users goes to seo: its regex is longer, so nginx tries it first.
    /// ```
    ///
    /// ## How to fix
    /// Keep regular-expression paths on a host of their own, or write them so that they cannot match the other Ingresses' paths.
    /// Where a rewrite is the only reason for regexes, prefer a dedicated host or the backend
    /// serving the original path.
    ///
    /// ## References
    /// - ingress-nginx "Ingress Path Matching" (the warning on `use-regex`/`rewrite-target`
    ///   applying to all paths of a host; locations sorted by descending length)
    /// - No peer checks this (research gap RTE-04).
    pub struct PathShadowed {
        code: "TG303",
        name: "path-shadowed",
        category: Routing,
        severity: Medium,
        summary: "A path is routed elsewhere because ingress-nginx applies a regex host-wide",
        needs: [],
        since: "0.1.0",
    }
}

const NGINX: &str = "nginx.ingress.kubernetes.io/";

/// A route of a host, as ingress-nginx sees it.
struct HostRoute<'a> {
    route: &'a Route,
    /// The Ingress's namespace, which the backend's Service name is relative to.
    ns: &'a str,
    path: &'a str,
    /// From an Ingress that set `use-regex` or `rewrite-target` (its author opted in).
    regex: bool,
    /// A regular expression: written with regex syntax by an author who opted in.
    pattern: bool,
}

/// One nginx `location` of the host.
struct Location {
    /// Index into the host's routes.
    route: usize,
    path: String,
}

/// What happened to one route.
enum Problem {
    Shadowed { probe: String, by: Option<usize> },
    Widened { probe: String },
}

impl Rule for PathShadowed {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let mut hosts: BTreeMap<(Option<String>, String), Vec<HostRoute<'_>>> = BTreeMap::new();
        for route in &inv.routes {
            let Some(path) = route.path.as_deref() else {
                continue;
            };
            let Some(ingress) = route.ingress else {
                continue;
            };
            let entry = &inv.ingresses[ingress];
            let object = &inv.objects[entry.object];
            if entry.class.controller != Some(Controller::IngressNginx)
                || is_nginx_canary(entry, object)
                || is_acme_solver(object)
            {
                continue;
            }
            let use_regex = object
                .annotation(&format!("{NGINX}use-regex"))
                .is_some_and(|v| matches!(v.trim(), "true" | "True" | "TRUE" | "1" | "t" | "T"));
            let rewrite = object
                .annotation(&format!("{NGINX}rewrite-target"))
                .is_some_and(|t| !t.is_empty() && t != path);
            hosts
                .entry((
                    entry.class.class.clone(),
                    route.host.clone().unwrap_or_default().to_ascii_lowercase(),
                ))
                .or_default()
                .push(HostRoute {
                    route,
                    ns: object.ns(),
                    path,
                    regex: use_regex || rewrite,
                    pattern: (use_regex || rewrite) && has_regex_syntax(path),
                });
        }
        for ((_, host), routes) in &hosts {
            let Some(source) = routes.iter().find(|r| r.regex) else {
                continue;
            };
            let source = &inv.objects[source.route.object];
            let locations = locations(routes);
            let mut problems: BTreeMap<usize, Problem> = BTreeMap::new();
            for probe in probes(routes) {
                let intended = intended(routes, &probe);
                let Some(actual) = actual(&locations, &probe) else {
                    continue;
                };
                match (intended, actual) {
                    (Some(l), None) => {
                        problems
                            .entry(l)
                            .or_insert(Problem::Shadowed { probe, by: None });
                    }
                    (Some(l), Some(a)) if !same_backend(&routes[a], &routes[l]) => {
                        // A regex takes a literal path's requests only if it matches that path
                        // itself: otherwise it is simply serving its own pattern.
                        let (by, victim) = (&routes[a], &routes[l]);
                        if by.pattern && regex::prefix_match(by.path, victim.path) != Some(true) {
                            continue;
                        }
                        problems
                            .entry(l)
                            .or_insert(Problem::Shadowed { probe, by: Some(a) });
                    }
                    (None, Some(m)) if !routes[m].regex => {
                        problems.entry(m).or_insert(Problem::Widened { probe });
                    }
                    _ => {}
                }
            }
            let cause = format!(
                "`use-regex`/`rewrite-target` on Ingress {}/{} makes ingress-nginx match every \
                 path of {} as a case-insensitive regex prefix, longest first",
                source.ns(),
                source.name,
                if host.is_empty() {
                    "the default server".to_owned()
                } else {
                    format!("`{host}`")
                }
            );
            for (r, problem) in problems {
                let hr = &routes[r];
                let message = match problem {
                    Problem::Shadowed {
                        probe,
                        by: Some(by),
                    } => {
                        let by = &routes[by];
                        let owner = &inv.objects[by.route.object];
                        let how = if by.pattern { "regex path" } else { "path" };
                        format!(
                            "`{probe}`, which this path should serve, goes to {} of Ingress \
                             {}/{} ({how} `{}`): {cause}",
                            backend_name(by.route),
                            owner.ns(),
                            owner.name,
                            by.path
                        )
                    }
                    Problem::Shadowed { probe, by: None } => format!(
                        "`{probe}`, which this path should serve, matches no location once the \
                         path is read as a regex: {cause}"
                    ),
                    Problem::Widened { probe } => format!(
                        "this {} path `{}` also serves `{probe}`, which no route should serve: \
                         {cause}",
                        hr.route.path_type.as_str(),
                        hr.path
                    ),
                };
                let d = out.report(
                    hr.route.object,
                    format!(
                        "{}/path",
                        hr.route.backend_pointer.trim_end_matches("/backend")
                    ),
                    message,
                );
                if let Some(h) = &hr.route.host {
                    d.host(h.clone());
                }
            }
        }
    }
}

fn backend_name(route: &Route) -> String {
    match &route.backend {
        Backend::Service {
            name,
            port: Some(port),
        } => format!("Service `{name}:{port}`"),
        Backend::Service { name, port: None } => format!("Service `{name}`"),
        Backend::Resource { kind, name } => format!("{kind} `{name}`"),
        Backend::None => "no backend".to_owned(),
    }
}

fn same_backend(a: &HostRoute<'_>, b: &HostRoute<'_>) -> bool {
    a.ns == b.ns && a.route.backend == b.route.backend
}

/// Whether a path is written with regular-expression syntax.
fn has_regex_syntax(path: &str) -> bool {
    path.contains([
        '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '\\',
    ])
}

/// The host's nginx locations in the order nginx tries them under regex enforcement: a
/// `Prefix` path of an Ingress without regexes becomes `<path>/` plus an `Exact` copy (unless
/// an `Exact` location of that path exists), then all are sorted by path, descending, and
/// stably by length, descending (ingress-nginx `controller.go`, `updateServerLocations`).
fn locations(routes: &[HostRoute<'_>]) -> Vec<Location> {
    let exact: Vec<&str> = routes
        .iter()
        .filter(|r| r.route.path_type == PathType::Exact)
        .map(|r| r.path)
        .collect();
    let mut out = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        let split = r.route.path_type == PathType::Prefix && !r.regex && r.path != "/";
        if !split {
            out.push(Location {
                route: i,
                path: r.path.to_owned(),
            });
            continue;
        }
        let normalized = if r.path.ends_with('/') {
            r.path.to_owned()
        } else {
            format!("{}/", r.path)
        };
        out.push(Location {
            route: i,
            path: normalized,
        });
        if !exact.contains(&r.path) {
            out.push(Location {
                route: i,
                path: r.path.to_owned(),
            });
        }
    }
    out.sort_by(|a, b| b.path.cmp(&a.path));
    out.sort_by_key(|l| std::cmp::Reverse(l.path.len()));
    out
}

/// Sample requests: each literal path, a request below it and one extending its last segment.
fn probes(routes: &[HostRoute<'_>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in routes {
        if has_regex_syntax(r.path) || !r.path.starts_with('/') {
            continue;
        }
        let mut add = |p: String| {
            if !out.contains(&p) {
                out.push(p);
            }
        };
        add(r.path.to_owned());
        if r.path.ends_with('/') {
            add(format!("{}x", r.path));
        } else {
            add(format!("{}/x", r.path));
            add(format!("{}x", r.path));
        }
    }
    out
}

/// The route a request should reach, among the literal paths of the host: an `Exact` match,
/// else the longest matching `Prefix` (element-wise) or `ImplementationSpecific` (for
/// ingress-nginx a plain string prefix) path. Literal paths of Ingresses that opted into
/// regexes are string prefixes, as their authors asked; regex patterns have no intended
/// share and are left out.
fn intended(routes: &[HostRoute<'_>], probe: &str) -> Option<usize> {
    let exact = routes
        .iter()
        .position(|r| !r.regex && r.route.path_type == PathType::Exact && r.path == probe);
    if exact.is_some() {
        return exact;
    }
    let mut best: Option<(usize, usize)> = None;
    for (i, r) in routes.iter().enumerate().filter(|(_, r)| !r.pattern) {
        let kind = if r.regex {
            PathType::ImplementationSpecific
        } else {
            r.route.path_type
        };
        let len = match kind {
            PathType::Exact => continue,
            PathType::Prefix => {
                let p = r.path.trim_end_matches('/');
                let m = p.is_empty()
                    || probe == p
                    || probe
                        .strip_prefix(p)
                        .is_some_and(|rest| rest.starts_with('/'));
                if !m {
                    continue;
                }
                p.len()
            }
            PathType::ImplementationSpecific => {
                if !probe.starts_with(r.path) {
                    continue;
                }
                r.path.len()
            }
        };
        if best.is_none_or(|(_, l)| len > l) {
            best = Some((i, len));
        }
    }
    best.map(|(i, _)| i)
}

/// The route nginx picks under regex enforcement: the first location whose `~* "^<path>"`
/// matches. `None` when a location before the match uses regex syntax Tollgate does not
/// evaluate; `Some(None)` when no location matches.
#[allow(clippy::option_option)]
fn actual(locations: &[Location], probe: &str) -> Option<Option<usize>> {
    for loc in locations {
        match regex::prefix_match(&loc.path, probe) {
            Some(true) => return Some(Some(loc.route)),
            Some(false) => {}
            None => return None,
        }
    }
    Some(None)
}

/// A small evaluator for the regular expressions ingress-nginx paths use (RE2 syntax, matched
/// by PCRE as `~*`: case-insensitive, anchored at the start, open at the end). It decides
/// membership only, by tracking the set of positions reachable after each node, so it needs no
/// backtracking. Syntax it does not evaluate yields `None`, never a guess.
mod regex {
    use std::collections::BTreeSet;

    #[derive(Debug)]
    enum Node {
        Char(char),
        Any,
        Class {
            ranges: Vec<(char, char)>,
            negated: bool,
        },
        Group(Vec<Vec<Node>>),
        Repeat {
            node: Box<Node>,
            min: usize,
            max: Option<usize>,
        },
        Start,
        End,
    }

    /// Whether `^pattern` matches a prefix of `input`, ignoring ASCII case.
    pub(super) fn prefix_match(pattern: &str, input: &str) -> Option<bool> {
        let mut p = Parser {
            chars: pattern.chars().collect(),
            pos: 0,
        };
        let alts = p.alternation()?;
        if p.pos != p.chars.len() {
            return None;
        }
        let input: Vec<char> = input.chars().collect();
        let end = step(&Node::Group(alts), &input, &BTreeSet::from([0]));
        Some(!end.is_empty())
    }

    const DIGIT: &[(char, char)] = &[('0', '9')];
    const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];
    const MAX_REPEAT: usize = 1000;

    struct Parser {
        chars: Vec<char>,
        pos: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }

        fn next(&mut self) -> Option<char> {
            let c = self.peek()?;
            self.pos += 1;
            Some(c)
        }

        fn alternation(&mut self) -> Option<Vec<Vec<Node>>> {
            let mut alts = Vec::new();
            let mut seq = Vec::new();
            loop {
                match self.peek() {
                    None | Some(')') => break,
                    Some('|') => {
                        self.pos += 1;
                        alts.push(std::mem::take(&mut seq));
                    }
                    Some(_) => {
                        let atom = self.atom()?;
                        let atom = self.quantified(atom)?;
                        seq.push(atom);
                    }
                }
            }
            alts.push(seq);
            Some(alts)
        }

        fn atom(&mut self) -> Option<Node> {
            Some(match self.next()? {
                '(' => {
                    if self.peek() == Some('?') {
                        self.pos += 1;
                        match self.next()? {
                            ':' => {}
                            'P' if self.peek() == Some('<') => {
                                self.pos += 1;
                                self.group_name()?;
                            }
                            '<' if self.peek().is_some_and(|c| c.is_ascii_alphabetic()) => {
                                self.group_name()?;
                            }
                            _ => return None,
                        }
                    }
                    let alts = self.alternation()?;
                    if self.next()? != ')' {
                        return None;
                    }
                    Node::Group(alts)
                }
                '[' => self.class()?,
                '.' => Node::Any,
                '^' => Node::Start,
                '$' => Node::End,
                '\\' => match self.next()? {
                    'd' => class(DIGIT, false),
                    'D' => class(DIGIT, true),
                    'w' => class(WORD, false),
                    'W' => class(WORD, true),
                    's' => class(SPACE, false),
                    'S' => class(SPACE, true),
                    c if c.is_ascii_alphanumeric() => return None,
                    c => Node::Char(c),
                },
                '*' | '+' | '?' | '{' | ')' => return None,
                c => Node::Char(c),
            })
        }

        fn group_name(&mut self) -> Option<()> {
            while self.next()? != '>' {}
            Some(())
        }

        fn class(&mut self) -> Option<Node> {
            let negated = self.peek() == Some('^');
            if negated {
                self.pos += 1;
            }
            let mut ranges = Vec::new();
            let mut first = true;
            loop {
                let c = self.next()?;
                if c == ']' && !first {
                    break;
                }
                first = false;
                let lo = match c {
                    '[' if self.peek() == Some(':') => return None,
                    '\\' => match self.next()? {
                        'd' => {
                            ranges.extend_from_slice(DIGIT);
                            continue;
                        }
                        'w' => {
                            ranges.extend_from_slice(WORD);
                            continue;
                        }
                        's' => {
                            ranges.extend_from_slice(SPACE);
                            continue;
                        }
                        e if e.is_ascii_alphanumeric() => return None,
                        e => e,
                    },
                    c => c,
                };
                if self.peek() == Some('-') && self.chars.get(self.pos + 1) != Some(&']') {
                    self.pos += 1;
                    let hi = match self.next()? {
                        '\\' => match self.next()? {
                            e if e.is_ascii_alphanumeric() => return None,
                            e => e,
                        },
                        h => h,
                    };
                    if hi < lo {
                        return None;
                    }
                    ranges.push((lo, hi));
                } else {
                    ranges.push((lo, lo));
                }
            }
            Some(Node::Class { ranges, negated })
        }

        fn quantified(&mut self, atom: Node) -> Option<Node> {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => self.bounds()?,
                _ => return Some(atom),
            };
            // Past `*`, `+`, `?`, or the closing brace `bounds` stopped on.
            self.pos += 1;
            match self.peek() {
                // Lazy quantifiers match the same set of strings.
                Some('?') => self.pos += 1,
                // Possessive quantifiers do not; nested quantifiers are errors.
                Some('+' | '*' | '{') => return None,
                _ => {}
            }
            if matches!(atom, Node::Start | Node::End) {
                return None;
            }
            Some(Node::Repeat {
                node: Box::new(atom),
                min,
                max,
            })
        }

        /// `{n}`, `{n,}` or `{n,m}`, leaving the position on the closing brace.
        fn bounds(&mut self) -> Option<(usize, Option<usize>)> {
            self.pos += 1;
            let min = self.number()?;
            let max = match self.peek()? {
                '}' => Some(min),
                ',' => {
                    self.pos += 1;
                    if self.peek()? == '}' {
                        None
                    } else {
                        let max = self.number()?;
                        if max < min {
                            return None;
                        }
                        Some(max)
                    }
                }
                _ => return None,
            };
            (self.peek()? == '}').then_some((min, max))
        }

        fn number(&mut self) -> Option<usize> {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let n: usize = self.chars[start..self.pos]
                .iter()
                .collect::<String>()
                .parse()
                .ok()?;
            (n <= MAX_REPEAT).then_some(n)
        }
    }

    fn class(ranges: &[(char, char)], negated: bool) -> Node {
        Node::Class {
            ranges: ranges.to_vec(),
            negated,
        }
    }

    fn in_class(ranges: &[(char, char)], c: char) -> bool {
        let hit = |c: char| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        hit(c) || hit(c.to_ascii_lowercase()) || hit(c.to_ascii_uppercase())
    }

    fn step(node: &Node, input: &[char], from: &BTreeSet<usize>) -> BTreeSet<usize> {
        let one = |pred: &dyn Fn(char) -> bool| -> BTreeSet<usize> {
            from.iter()
                .filter(|&&p| input.get(p).is_some_and(|&c| pred(c)))
                .map(|&p| p + 1)
                .collect()
        };
        match node {
            Node::Char(want) => one(&|c| c.eq_ignore_ascii_case(want)),
            Node::Any => one(&|c| c != '\n'),
            Node::Class { ranges, negated } => one(&|c| in_class(ranges, c) != *negated),
            Node::Start => from.iter().copied().filter(|&p| p == 0).collect(),
            Node::End => from.iter().copied().filter(|&p| p == input.len()).collect(),
            Node::Group(alts) => {
                let mut out = BTreeSet::new();
                for seq in alts {
                    let mut cur = from.clone();
                    for n in seq {
                        cur = step(n, input, &cur);
                        if cur.is_empty() {
                            break;
                        }
                    }
                    out.extend(cur);
                }
                out
            }
            Node::Repeat { node, min, max } => {
                let mut out = BTreeSet::new();
                if *min == 0 {
                    out.extend(from.iter().copied());
                }
                let limit = max.unwrap_or(min + input.len() + 1);
                let mut frontier = from.clone();
                for count in 1..=limit {
                    frontier = step(node, input, &frontier);
                    if frontier.is_empty() {
                        break;
                    }
                    if count >= *min {
                        let before = out.len();
                        out.extend(frontier.iter().copied());
                        if out.len() == before && count > *min && max.is_none() {
                            break;
                        }
                    }
                }
                out
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::prefix_match;

        #[test]
        fn matches_like_an_anchored_case_insensitive_prefix() {
            assert_eq!(prefix_match("/api", "/apiary"), Some(true));
            assert_eq!(prefix_match("/api", "/API/v1"), Some(true));
            assert_eq!(prefix_match("/api", "/ap"), Some(false));
            assert_eq!(prefix_match("/api$", "/apiary"), Some(false));
            assert_eq!(prefix_match("/api$", "/api"), Some(true));
        }

        #[test]
        fn classes_groups_and_quantifiers() {
            assert_eq!(prefix_match("/[a-z]+/admin.*", "/shop/admin"), Some(true));
            assert_eq!(prefix_match("/[a-z]+/admin.*", "/1/admin"), Some(false));
            assert_eq!(prefix_match("/(api|v1)/.*", "/v1/x"), Some(true));
            assert_eq!(prefix_match("/(?:api|v1)/.*", "/v2/x"), Some(false));
            assert_eq!(
                prefix_match("/something(/|$)(.*)", "/something"),
                Some(true)
            );
            assert_eq!(prefix_match("/v[0-9]{2,3}/", "/v1/"), Some(false));
            assert_eq!(prefix_match("/v[0-9]{2,3}/", "/v123/"), Some(true));
            assert_eq!(prefix_match("/v\\d+\\.\\d+", "/v1.20"), Some(true));
            assert_eq!(prefix_match("/[^/]+/edit", "/a/b/edit"), Some(false));
            assert_eq!(prefix_match("/(?<rest>.*)", "/x"), Some(true));
            assert_eq!(prefix_match("/(a*)*b", "/aaab"), Some(true));
        }

        #[test]
        fn unsupported_syntax_is_unknown_not_a_guess() {
            assert_eq!(prefix_match("/(?=x)", "/x"), None);
            assert_eq!(prefix_match("/(a)\\1", "/aa"), None);
            assert_eq!(prefix_match("/a++", "/aa"), None);
            assert_eq!(prefix_match("/[[:alpha:]]", "/a"), None);
            assert_eq!(prefix_match("/(unclosed", "/x"), None);
        }
    }
}
