//! The pattern lists (embedded data files plus the user's `extraPatterns`) and their matchers:
//! one Aho-Corasick automaton per list, ASCII case-insensitive, searched without allocating.

use std::sync::Arc;

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, Input, MatchKind, StartKind,
};

use super::config::{DetectorConfigError, ExtraPatterns};
use super::gate::{PairGate, SuffixGate};

/// `data/detectors/sensitive-files.txt`.
pub const SENSITIVE_FILES: &str = include_str!("../../data/detectors/sensitive-files.txt");
/// `data/detectors/path-traversal.txt`.
pub const PATH_TRAVERSAL: &str = include_str!("../../data/detectors/path-traversal.txt");
/// `data/detectors/sqli.txt`.
pub const SQLI: &str = include_str!("../../data/detectors/sqli.txt");
/// `data/detectors/xss.txt`.
pub const XSS: &str = include_str!("../../data/detectors/xss.txt");
/// `data/detectors/backdoors.txt`.
pub const BACKDOORS: &str = include_str!("../../data/detectors/backdoors.txt");
/// `data/detectors/admin-interfaces.txt`.
pub const ADMIN_INTERFACES: &str = include_str!("../../data/detectors/admin-interfaces.txt");
/// `data/detectors/bad-user-agents.txt`.
pub const BAD_USER_AGENTS: &str = include_str!("../../data/detectors/bad-user-agents.txt");
/// `data/detectors/cve-uris.txt`.
pub const CVE_URIS: &str = include_str!("../../data/detectors/cve-uris.txt");

/// File extensions of static resources (CrowdSec's `static_ressource` list): a 404 for one of
/// them is a broken page, not a probe, so `path-probing` ignores them.
const STATIC_EXTENSIONS: &[&str] = &[
    "jpg", "css", "js", "jpeg", "png", "svg", "map", "ico", "otf", "gif", "mp3", "mp4", "woff",
    "woff2", "ttf", "eot", "webp", "wav", "gz", "brotli", "bvr", "ts", "bmp", "avif", "mjs",
];

/// The entries of a list file: one per line, blank lines and `#` comments skipped, trimmed.
pub fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Where a CVE fragment is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CveScope {
    /// In the path, on 403/404 answers.
    Path,
    /// In the path, query or User-Agent, on any answer.
    Anywhere,
}

/// One CVE list line, split.
fn cve_entry(line: &str) -> Option<(&str, CveScope, &str)> {
    let (id, rest) = line.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (scope, fragment) = match rest.split_once(char::is_whitespace) {
        Some(("any", fragment)) => (CveScope::Anywhere, fragment.trim()),
        // `<CVE-ID> any` with nothing after it is a line cut short, not the fragment `any`.
        None if rest == "any" => (CveScope::Anywhere, ""),
        _ => (CveScope::Path, rest.trim_end()),
    };
    let id_ok = id.len() > 4
        && id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-"))
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (id_ok && !fragment.is_empty()).then_some((id, scope, fragment))
}

/// Every matcher the classifier runs. Built once; shared by all threads.
///
/// Each list has its own automaton, which decides. The lists that run on every line also sit
/// behind cheap gates per field (byte-pair tables) so that a benign line skips the automata.
#[derive(Debug, Clone)]
pub struct Patterns {
    path_gate: PairGate,
    query_gate: PairGate,
    user_agent_gate: PairGate,
    sensitive_file_gate: SuffixGate,
    backdoor_gate: SuffixGate,
    sensitive_files: AhoCorasick,
    path_traversal: AhoCorasick,
    sqli: AhoCorasick,
    xss: AhoCorasick,
    backdoors: AhoCorasick,
    admin_interfaces: AhoCorasick,
    bad_user_agents: AhoCorasick,
    bad_user_agent_names: Vec<Arc<str>>,
    cve_paths: AhoCorasick,
    cve_path_ids: Vec<Arc<str>>,
    cve_anywhere: AhoCorasick,
    cve_anywhere_ids: Vec<Arc<str>>,
    login_paths: AhoCorasick,
    /// Whether `extraPatterns.loginForms` names any login form.
    any_login_form: bool,
}

impl Patterns {
    /// The built-in lists plus `extra`.
    pub fn new(extra: &ExtraPatterns) -> Result<Self, DetectorConfigError> {
        let mut cve_paths = Vec::new();
        let mut cve_anywhere = Vec::new();
        for line in entries(CVE_URIS) {
            // The embedded file is checked by a test; a bad line there is skipped, not fatal.
            if let Some(entry) = cve_entry(line) {
                push_cve(entry, &mut cve_paths, &mut cve_anywhere);
            }
        }
        for line in &extra.cve_uris {
            let entry = cve_entry(line.trim()).ok_or_else(|| DetectorConfigError::Pattern {
                list: "cveUris",
                entry: line.clone(),
                reason: "is not `<CVE-ID> <fragment>` or `<CVE-ID> any <fragment>`",
            })?;
            push_cve(entry, &mut cve_paths, &mut cve_anywhere);
        }
        let bad_user_agents = list("badUserAgents", BAD_USER_AGENTS, &extra.bad_user_agents)?;
        let sensitive_files = list("sensitiveFiles", SENSITIVE_FILES, &extra.sensitive_files)?;
        let path_traversal = list("pathTraversal", PATH_TRAVERSAL, &extra.path_traversal)?;
        let sqli = list("sqli", SQLI, &extra.sqli)?;
        let xss = list("xss", XSS, &extra.xss)?;
        let backdoors = list("backdoors", BACKDOORS, &extra.backdoors)?;
        let anywhere = || cve_anywhere.iter().map(|(_, fragment)| *fragment);
        Ok(Patterns {
            path_gate: PairGate::new(path_traversal.iter().copied().chain(anywhere())),
            query_gate: PairGate::new(
                path_traversal
                    .iter()
                    .chain(&sqli)
                    .chain(&xss)
                    .copied()
                    .chain(anywhere()),
            ),
            user_agent_gate: PairGate::new(bad_user_agents.iter().copied().chain(anywhere())),
            sensitive_file_gate: SuffixGate::new(sensitive_files.iter().copied()),
            backdoor_gate: SuffixGate::new(backdoors.iter().copied()),
            sensitive_files: build("sensitiveFiles", &sensitive_files, MatchKind::Standard)?,
            path_traversal: build("pathTraversal", &path_traversal, MatchKind::LeftmostFirst)?,
            sqli: build("sqli", &sqli, MatchKind::LeftmostFirst)?,
            xss: build("xss", &xss, MatchKind::LeftmostFirst)?,
            backdoors: build_with_start(
                "backdoors",
                &backdoors,
                MatchKind::LeftmostLongest,
                StartKind::Anchored,
            )?,
            admin_interfaces: build(
                "adminInterfaces",
                &list("adminInterfaces", ADMIN_INTERFACES, &extra.admin_interfaces)?,
                MatchKind::LeftmostFirst,
            )?,
            bad_user_agents: build(
                "badUserAgents",
                &bad_user_agents,
                MatchKind::LeftmostLongest,
            )?,
            bad_user_agent_names: bad_user_agents
                .iter()
                .map(|name| Arc::from(*name))
                .collect(),
            cve_paths: build(
                "cveUris",
                &cve_paths.iter().map(|(_, f)| *f).collect::<Vec<_>>(),
                MatchKind::LeftmostLongest,
            )?,
            cve_path_ids: cve_paths.iter().map(|(id, _)| Arc::from(*id)).collect(),
            cve_anywhere: build(
                "cveUris",
                &cve_anywhere.iter().map(|(_, f)| *f).collect::<Vec<_>>(),
                MatchKind::LeftmostLongest,
            )?,
            cve_anywhere_ids: cve_anywhere.iter().map(|(id, _)| Arc::from(*id)).collect(),
            login_paths: build(
                "loginForms",
                &extra
                    .login_forms
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                MatchKind::LeftmostFirst,
            )?,
            any_login_form: !extra.login_forms.is_empty(),
        })
    }

    /// Whether a traversal or `any` CVE entry may occur in the path; when false,
    /// [`Self::path_traversal`] and [`Self::cve_anywhere`] are false for it.
    pub fn path_may_match(&self, path: &str) -> bool {
        self.path_gate.may_match(path)
    }

    /// Whether a traversal, SQLi, XSS or `any` CVE entry may occur in the query; when false,
    /// the four checks are false for it.
    pub fn query_may_match(&self, query: &str) -> bool {
        self.query_gate.may_match(query)
    }

    /// Whether a bad-user-agent or `any` CVE entry may occur in the User-Agent; when false,
    /// [`Self::bad_user_agent`] and [`Self::cve_anywhere`] are false for it.
    pub fn user_agent_may_match(&self, user_agent: &str) -> bool {
        self.user_agent_gate.may_match(user_agent)
    }

    /// The path ends with a sensitive-file entry.
    pub fn sensitive_file(&self, path: &str) -> bool {
        if !self.sensitive_file_gate.may_match(path) {
            return false;
        }
        // Ends-with needs every match, not only the leftmost: `/.git/config` inside
        // `/x/.git/config` overlaps other entries that end earlier.
        self.sensitive_files
            .find_overlapping_iter(path)
            .any(|found| found.end() == path.len())
    }

    /// The text contains a path-traversal entry.
    pub fn path_traversal(&self, text: &str) -> bool {
        self.path_traversal.is_match(text)
    }

    /// The query contains an SQL-injection entry.
    pub fn sqli(&self, query: &str) -> bool {
        self.sqli.is_match(query)
    }

    /// The query contains a cross-site-scripting entry.
    pub fn xss(&self, query: &str) -> bool {
        self.xss.is_match(query)
    }

    /// The file name equals a backdoor entry.
    pub fn backdoor(&self, file_name: &str) -> bool {
        if !self.backdoor_gate.may_match(file_name) {
            return false;
        }
        // Anchored leftmost-longest finds the longest entry starting at 0; the file name is an
        // entry exactly when that match spans all of it.
        let input = Input::new(file_name).anchored(Anchored::Yes);
        self.backdoors
            .find(input)
            .is_some_and(|found| found.end() == file_name.len())
    }

    /// The path contains an admin-interface entry.
    pub fn admin_interface(&self, path: &str) -> bool {
        self.admin_interfaces.is_match(path)
    }

    /// The bad-user-agent entry the User-Agent contains, as the tool's name.
    pub fn bad_user_agent(&self, user_agent: &str) -> Option<&Arc<str>> {
        let found = self.bad_user_agents.find(user_agent)?;
        self.bad_user_agent_names.get(found.pattern().as_usize())
    }

    /// The CVE whose path fragment the path contains (judged on 403/404 answers).
    pub fn cve_path(&self, path: &str) -> Option<&Arc<str>> {
        let found = self.cve_paths.find(path)?;
        self.cve_path_ids.get(found.pattern().as_usize())
    }

    /// The CVE whose `any` fragment the text contains (judged on any answer).
    pub fn cve_anywhere(&self, text: &str) -> Option<&Arc<str>> {
        let found = self.cve_anywhere.find(text)?;
        self.cve_anywhere_ids.get(found.pattern().as_usize())
    }

    /// The path is one of the configured login forms (`extraPatterns.loginForms`).
    pub fn login_path(&self, path: &str) -> bool {
        self.any_login_form && self.login_paths.is_match(path)
    }
}

fn push_cve<'a>(
    (id, scope, fragment): (&'a str, CveScope, &'a str),
    paths: &mut Vec<(&'a str, &'a str)>,
    anywhere: &mut Vec<(&'a str, &'a str)>,
) {
    match scope {
        CveScope::Path => paths.push((id, fragment)),
        CveScope::Anywhere => anywhere.push((id, fragment)),
    }
}

/// The built-in entries of a list followed by the user's, which must not be blank.
fn list<'a>(
    key: &'static str,
    builtin: &'a str,
    extra: &'a [String],
) -> Result<Vec<&'a str>, DetectorConfigError> {
    let mut all: Vec<&str> = entries(builtin).collect();
    for entry in extra {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            return Err(DetectorConfigError::Pattern {
                list: key,
                entry: entry.clone(),
                reason: "is empty, which would match every request",
            });
        }
        all.push(trimmed);
    }
    Ok(all)
}

fn build(
    key: &'static str,
    patterns: &[&str],
    kind: MatchKind,
) -> Result<AhoCorasick, DetectorConfigError> {
    build_with_start(key, patterns, kind, StartKind::Unanchored)
}

/// [`build`] for searches that start where the caller says: `Anchored` for whole-name matches.
fn build_with_start(
    key: &'static str,
    patterns: &[&str],
    kind: MatchKind,
    start: StartKind,
) -> Result<AhoCorasick, DetectorConfigError> {
    let mut builder = AhoCorasickBuilder::new();
    // A DFA: the exact automata run on every 403/404 path and behind the gates, and for lists
    // this size a DFA is small and walks a byte in a few instructions.
    builder
        .ascii_case_insensitive(true)
        .match_kind(kind)
        .kind(Some(AhoCorasickKind::DFA));
    builder
        .start_kind(start)
        .build(patterns)
        .map_err(|error| DetectorConfigError::Matcher {
            list: key,
            reason: error.to_string(),
        })
}

/// The last path segment (`/a/b/c.php` → `c.php`); empty for a path ending in `/`.
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        // `/` is ASCII, so the byte after it starts a character.
        Some(slash) => path.get(slash + 1..).unwrap_or(""),
        None => path,
    }
}

/// Whether the path names a static resource by its extension.
pub fn is_static(path: &str) -> bool {
    let name = file_name(path);
    let Some(dot) = name.rfind('.') else {
        return false;
    };
    let extension = name.get(dot + 1..).unwrap_or("");
    STATIC_EXTENSIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(extension))
}

/// Whether the request target is an absolute URL (`http://...`), as open-proxy probes send.
pub fn is_absolute_url(path: &str) -> bool {
    let bytes = path.as_bytes();
    let starts = |prefix: &[u8]| {
        bytes
            .get(..prefix.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(prefix))
    };
    starts(b"http://") || starts(b"https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns() -> Patterns {
        Patterns::new(&ExtraPatterns::default()).expect("built-in lists compile")
    }

    #[test]
    fn every_embedded_cve_line_parses() {
        for line in entries(CVE_URIS) {
            assert!(cve_entry(line).is_some(), "bad cve-uris.txt line: {line}");
        }
    }

    #[test]
    fn list_sizes_stay_in_the_curated_range() {
        for (name, text) in [
            ("sensitive-files", SENSITIVE_FILES),
            ("path-traversal", PATH_TRAVERSAL),
            ("sqli", SQLI),
            ("xss", XSS),
            ("backdoors", BACKDOORS),
            ("admin-interfaces", ADMIN_INTERFACES),
            ("bad-user-agents", BAD_USER_AGENTS),
            ("cve-uris", CVE_URIS),
        ] {
            let count = entries(text).count();
            assert!((20..=100).contains(&count), "{name}: {count} entries");
        }
    }

    #[test]
    fn no_list_holds_generic_http_clients() {
        let patterns = patterns();
        for benign in [
            "curl/8.4.0",
            "Wget/1.21.4",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "okhttp/4.12.0",
            "kube-probe/1.29",
            "Prometheus/2.48.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ] {
            assert_eq!(patterns.bad_user_agent(benign), None, "{benign}");
        }
    }

    #[test]
    fn bad_user_agent_names_the_longest_entry() {
        let patterns = patterns();
        let found = patterns.bad_user_agent("DirBuster-1.0-RC1 (http://www.owasp.org)");
        assert_eq!(found.map(|n| &**n), Some("dirbuster"));
        let found = patterns.bad_user_agent("sqlmap/1.7.2#stable (https://sqlmap.org)");
        assert_eq!(found.map(|n| &**n), Some("sqlmap"));
    }

    #[test]
    fn sensitive_file_matches_only_at_the_end() {
        let patterns = patterns();
        assert!(patterns.sensitive_file("/.env"));
        assert!(patterns.sensitive_file("/app/.git/config"));
        assert!(patterns.sensitive_file("/.GIT/CONFIG"));
        assert!(!patterns.sensitive_file("/.env/docs"));
        assert!(!patterns.sensitive_file("/environment"));
        assert!(!patterns.sensitive_file("/phpinfo.php.html"));
    }

    #[test]
    fn backdoor_matches_the_whole_file_name_only() {
        let patterns = patterns();
        assert!(patterns.backdoor(file_name("/wp-content/uploads/c99.php")));
        assert!(patterns.backdoor(file_name("/WSO.PHP")));
        assert!(!patterns.backdoor(file_name("/c99.php.txt")));
        assert!(!patterns.backdoor(file_name("/myshell.php")));
        assert!(!patterns.backdoor(file_name("/shell.php/")));
    }

    #[test]
    fn cve_paths_and_anywhere_fragments_name_their_cve() {
        let patterns = patterns();
        let id = patterns.cve_path("/cgi-bin/.%2E/.%2e/.%2e/etc/passwd");
        assert_eq!(id.map(|i| &**i), Some("CVE-2021-41773"));
        let id = patterns.cve_path("/api/v1/totp/user-backup-code/../../license/keys-status/x");
        assert_eq!(id.map(|i| &**i), Some("CVE-2024-21887"));
        let id = patterns.cve_anywhere("${jndi:ldap://198.51.100.1:1389/a}");
        assert_eq!(id.map(|i| &**i), Some("CVE-2021-44228"));
        assert_eq!(patterns.cve_path("/api/orders/42"), None);
    }

    #[test]
    fn cve_entry_reads_both_line_shapes_and_rejects_others() {
        assert_eq!(
            cve_entry("CVE-2022-1388 /mgmt/tm/util/bash"),
            Some(("CVE-2022-1388", CveScope::Path, "/mgmt/tm/util/bash"))
        );
        assert_eq!(
            cve_entry("CVE-2021-44228 any ${jndi:"),
            Some(("CVE-2021-44228", CveScope::Anywhere, "${jndi:"))
        );
        assert_eq!(cve_entry("CVE-2021-44228"), None);
        assert_eq!(cve_entry("not-a-cve /x"), None);
        assert_eq!(cve_entry("CVE-2021-44228 any "), None);
        assert_eq!(cve_entry("CVE-2021-44228 any"), None);
    }

    #[test]
    fn static_resources_are_known_by_extension() {
        assert!(is_static("/static/app.JS"));
        assert!(is_static("/favicon.ico"));
        assert!(!is_static("/api/orders/42"));
        assert!(!is_static("/wp-login.php"));
        assert!(!is_static("/.js/"));
    }

    #[test]
    fn absolute_urls_are_told_from_paths() {
        assert!(is_absolute_url("http://example.com/"));
        assert!(is_absolute_url("HTTPS://example.com:443/"));
        assert!(!is_absolute_url("/http://x"));
        assert!(!is_absolute_url("htt"));
    }

    #[test]
    fn blank_extra_patterns_are_refused() {
        let extra = ExtraPatterns {
            xss: vec!["  ".into()],
            ..ExtraPatterns::default()
        };
        assert!(matches!(
            Patterns::new(&extra),
            Err(DetectorConfigError::Pattern { list: "xss", .. })
        ));
        let extra = ExtraPatterns {
            cve_uris: vec!["/no/id".into()],
            ..ExtraPatterns::default()
        };
        assert!(matches!(
            Patterns::new(&extra),
            Err(DetectorConfigError::Pattern {
                list: "cveUris",
                ..
            })
        ));
    }

    #[test]
    fn extra_patterns_extend_the_lists() {
        let extra = ExtraPatterns {
            sensitive_files: vec!["/internal/dump.tar".into()],
            cve_uris: vec!["CVE-2099-0001 /made/up".into()],
            ..ExtraPatterns::default()
        };
        let patterns = Patterns::new(&extra).expect("compiles");
        assert!(patterns.sensitive_file("/internal/dump.tar"));
        assert_eq!(
            patterns.cve_path("/made/up/x").map(|i| &**i),
            Some("CVE-2099-0001")
        );
    }
}
