//! Report renderers, one file per output format.

pub mod certs;
pub mod compliance;
pub mod github;
pub mod json;
pub mod junit;
pub mod map;
pub mod markdown;
pub mod migrate;
pub mod sarif;
pub mod text;

/// Lays `rows` out as left-aligned columns two spaces apart, the last column unpadded: one line
/// per row, without the newline. With `color`, `style(row, column, cell)` may give an SGR code
/// (`"1"` bold, `"31"` red, …) for a cell.
pub fn columns<R: AsRef<[String]>>(
    rows: &[R],
    color: bool,
    style: impl Fn(usize, usize, &str) -> Option<&'static str>,
) -> Vec<String> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    rows.iter()
        .enumerate()
        .map(|(r, row)| {
            let row = row.as_ref();
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                match style(r, i, cell).filter(|_| color) {
                    Some(code) => line.push_str(&format!("\x1b[{code}m{cell}\x1b[0m")),
                    None => line.push_str(cell),
                }
                if i + 1 < row.len() {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            line
        })
        .collect()
}
