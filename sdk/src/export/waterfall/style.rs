//! ANSI styling for the waterfall, or none at all.

/// Text styles the waterfall uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Bold,
    Dim,
    Ok,
    Error,
    Bar,
    ErrorBar,
    Event,
    /// One of the service colours (index into the palette).
    Service(usize),
}

/// Colours for service names, picked by a stable hash of the name.
const SERVICE_PALETTE: [&str; 6] = ["36", "35", "33", "34", "32", "96"];

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Ok => "32",
            Style::Error => "1;31",
            Style::Bar => "36",
            Style::ErrorBar => "31",
            Style::Event => "33",
            Style::Service(i) => SERVICE_PALETTE[i % SERVICE_PALETTE.len()],
        }
    }

    /// The service colour for `name`: the same name always gets the same
    /// colour, in every process (FNV-1a, not the randomised std hasher).
    pub fn service(name: &str) -> Style {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in name.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        Style::Service(hash as usize % SERVICE_PALETTE.len())
    }
}

/// Appends text to a line, styled or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Painter {
    pub color: bool,
}

impl Painter {
    /// Append `text` in `style`.
    pub fn push(&self, line: &mut String, style: Style, text: &str) {
        if self.color && !text.is_empty() {
            line.push_str("\x1b[");
            line.push_str(style.code());
            line.push('m');
            line.push_str(text);
            line.push_str("\x1b[0m");
        } else {
            line.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_painter_adds_no_escapes() {
        let mut line = String::new();
        Painter { color: false }.push(&mut line, Style::Error, "x");
        assert_eq!(line, "x");
        Painter { color: true }.push(&mut line, Style::Error, "y");
        assert_eq!(line, "x\x1b[1;31my\x1b[0m");
    }

    #[test]
    fn service_colours_are_stable() {
        assert_eq!(Style::service("checkout"), Style::service("checkout"));
    }
}
