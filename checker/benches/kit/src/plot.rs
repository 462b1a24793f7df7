//! SVG charts with plotters' SVG backend (text is SVG text: no font files are read, and the
//! files render offline, in print and in any browser).

use std::path::Path;

use plotters::prelude::*;

use crate::stats::{Summary, short};

/// Colours: the subject a chart is about, then everything else.
const FOCUS: RGBColor = RGBColor(204, 85, 0);
const OTHER: RGBColor = RGBColor(52, 101, 164);
const PALETTE: [RGBColor; 6] = [
    RGBColor(204, 85, 0),
    RGBColor(52, 101, 164),
    RGBColor(78, 154, 6),
    RGBColor(117, 80, 123),
    RGBColor(193, 125, 17),
    RGBColor(85, 87, 83),
];

/// Chart width in pixels: fits the book's text column.
pub const WIDTH: u32 = 720;

/// One bar: its label, its value (median and spread), whether it is the focus, and the text
/// printed after it.
pub struct Bar {
    pub label: String,
    pub value: Summary,
    pub focus: bool,
    pub note: String,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// One chart of a figure.
pub enum Panel {
    /// Horizontal bars: each bar the median, a whisker from the smallest to the largest
    /// sample, and a note (the value and the ratio) after it.
    Bars {
        title: String,
        unit: String,
        rows: Vec<Bar>,
    },
    /// Lines over worker counts (log scale), each point a median with a whisker for the
    /// spread, and an optional dashed guide line (e.g. "ideal").
    Lines {
        title: String,
        x_desc: String,
        y_desc: String,
        series: Vec<Line>,
        guide: Option<(String, Vec<(f64, f64)>)>,
    },
}

impl Panel {
    fn height(&self) -> u32 {
        match self {
            Panel::Bars { rows, .. } => 70 + 28 * rows.len() as u32,
            Panel::Lines { .. } => 400,
        }
    }
}

/// Writes `panels`, one below the other, as one SVG file.
///
/// # Errors
/// When the file cannot be written.
pub fn draw(path: &Path, panels: &[Panel]) -> Result<(), String> {
    let height: u32 = panels.iter().map(Panel::height).sum();
    let root = SVGBackend::new(path, (WIDTH, height.max(1))).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut rest = root.clone();
    for panel in panels {
        let (area, below) = rest.split_vertically(panel.height());
        match panel {
            Panel::Bars { title, unit, rows } => bars(&area, title, unit, rows)?,
            Panel::Lines {
                title,
                x_desc,
                y_desc,
                series,
                guide,
            } => lines(
                &area,
                title,
                x_desc,
                y_desc,
                series,
                guide.as_ref().map(|(n, p)| (n.as_str(), p.as_slice())),
            )?,
        }
        rest = below;
    }
    root.present().map_err(err)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn bars(root: &Area<'_>, title: &str, unit: &str, rows: &[Bar]) -> Result<(), String> {
    let top = rows
        .iter()
        .map(|r| r.value.max)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    // Room on the right for the notes.
    let x_max = top * 1.45;
    let n = rows.len() as i32;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(190)
        // Integer ranges are inclusive in plotters: `0..n - 1` is n segments.
        .build_cartesian_2d(0.0..x_max, (0..(n - 1).max(0)).into_segmented())
        .map_err(err)?;
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(RGBColor(245, 245, 245))
        .x_desc(unit)
        .x_labels(6)
        // One label per bar (plotters would otherwise thin them out).
        .y_labels(rows.len() + 1)
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels
                .get(usize::try_from(n - 1 - *i).unwrap_or(0))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    // Row 0 at the top.
    let at = |i: usize| n - 1 - i as i32;
    for (i, row) in rows.iter().enumerate() {
        let colour = if row.focus { FOCUS } else { OTHER };
        let y = at(i);
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(y)),
                (row.value.median, SegmentValue::Exact(y + 1)),
            ],
            colour.mix(0.85).filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        chart.draw_series(std::iter::once(bar)).map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    (row.value.min, SegmentValue::CenterOf(y)),
                    (row.value.max, SegmentValue::CenterOf(y)),
                ],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                row.note.clone(),
                (row.value.max + top * 0.02, SegmentValue::CenterOf(y)),
                ("sans-serif", 12).into_font().color(&BLACK),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// One line of a line chart: a name, and (x, value) points.
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, Summary)>,
}

fn lines(
    root: &Area<'_>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Line],
    guide: Option<(&str, &[(f64, f64)])>,
) -> Result<(), String> {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let x_max = xs.fold(1.0_f64, f64::max);
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1.max))
        .chain(guide.iter().flat_map(|g| g.1.iter().map(|p| p.1)))
        .fold(0.0_f64, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((1.0..x_max * 1.15).log_scale(), 0.0..y_max.max(1e-9))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(RGBColor(245, 245, 245))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| short(*v))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    if let Some((name, points)) = guide {
        chart
            .draw_series(DashedLineSeries::new(
                points.iter().copied(),
                6,
                4,
                RGBColor(120, 120, 120).stroke_width(1),
            ))
            .map_err(err)?
            .label(name)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RGBColor(120, 120, 120)));
    }
    for (k, s) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|(x, v)| (*x, v.median)),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(s.points.iter().map(|(x, v)| {
                ErrorBar::new_vertical(*x, v.min, v.median, v.max, colour.filled(), 6)
            }))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    Ok(())
}
