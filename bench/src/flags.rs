//! The command lines of the benchmark binaries: `--flag value` or `--flag=value`, read one flag
//! at a time, with the messages the binaries print.

/// The flags after the program name.
pub struct Flags {
    args: std::vec::IntoIter<String>,
    inline: Option<String>,
}

impl Flags {
    /// The process's own arguments.
    #[must_use]
    pub fn from_env() -> Flags {
        Flags::new(std::env::args().skip(1).collect())
    }

    /// These arguments (without the program name).
    #[must_use]
    pub fn new(args: Vec<String>) -> Flags {
        Flags {
            args: args.into_iter(),
            inline: None,
        }
    }

    /// The next flag (`--events` of `--events=5` or `--events 5`), or `None` at the end.
    pub fn next_flag(&mut self) -> Option<String> {
        let arg = self.args.next()?;
        match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                self.inline = Some(value.to_owned());
                Some(flag.to_owned())
            }
            _ => {
                self.inline = None;
                Some(arg)
            }
        }
    }

    /// The value of flag `name`: after its `=`, else the next argument.
    ///
    /// # Errors
    /// There is none.
    pub fn value(&mut self, name: &str) -> Result<String, String> {
        self.inline
            .take()
            .or_else(|| self.args.next())
            .ok_or_else(|| format!("{name} needs a value"))
    }

    /// The value of flag `name` as a positive number.
    ///
    /// # Errors
    /// There is none, or it is not a positive number.
    pub fn number(&mut self, name: &str) -> Result<usize, String> {
        let text = self.value(name)?;
        text.parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name} must be a positive number, not {text:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_the_errors() {
        let args = ["--events=5", "--batch", "7", "--url", "--seconds", "0"];
        let mut flags = Flags::new(args.iter().map(|a| (*a).to_owned()).collect());
        assert_eq!(flags.next_flag().as_deref(), Some("--events"));
        assert_eq!(flags.number("--events"), Ok(5));
        assert_eq!(flags.next_flag().as_deref(), Some("--batch"));
        assert_eq!(flags.number("--batch"), Ok(7));
        assert_eq!(flags.next_flag().as_deref(), Some("--url"));
        assert_eq!(flags.value("--url").as_deref(), Ok("--seconds"));
        assert_eq!(flags.next_flag().as_deref(), Some("0"));
        assert_eq!(flags.number("--x"), Err("--x needs a value".to_owned()));
        let mut zero = Flags::new(vec!["--n=0".to_owned()]);
        zero.next_flag();
        assert!(zero.number("--n").unwrap_err().contains("positive"));
    }
}
