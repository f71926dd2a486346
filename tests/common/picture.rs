//! Rasterising an SVG with resvg and saying what was drawn.

/// What a rasterised picture holds.
pub struct Picture {
    pub width: u32,
    pub height: u32,
    /// Pixels in colour (not grey, white or black): lanes, bars, plots.
    pub coloured: usize,
    /// Rows of pixels holding some colour.
    pub coloured_rows: usize,
    /// Pixels that are not background (neither transparent nor white).
    pub inked: usize,
}

fn measure(pixmap: &resvg::tiny_skia::Pixmap) -> Picture {
    let width = pixmap.width();
    let colour =
        |p: &resvg::tiny_skia::PremultipliedColorU8| p.red() != p.green() || p.green() != p.blue();
    let pixels = pixmap.pixels();
    let coloured_rows = pixels
        .chunks(width as usize)
        .filter(|row| row.iter().any(colour))
        .count();
    Picture {
        width,
        height: pixmap.height(),
        coloured: pixels.iter().filter(|p| colour(p)).count(),
        coloured_rows,
        inked: pixels
            .iter()
            .filter(|p| p.alpha() > 0 && !(p.red() == 255 && p.green() == 255 && p.blue() == 255))
            .count(),
    }
}

/// Parses and rasterises an SVG. `SCENARIO_RUN_PICTURES=DIR` keeps the PNG
/// there as `save_as.png`.
pub fn rasterise(svg: &str, save_as: &str) -> Picture {
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    // Debian ships DejaVu; Helvetica and Arial fall back to it.
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let tree = resvg::usvg::Tree::from_str(svg, &options).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    if let Some(dir) = std::env::var_os("SCENARIO_RUN_PICTURES") {
        pixmap
            .save_png(std::path::Path::new(&dir).join(format!("{save_as}.png")))
            .unwrap();
    }
    measure(&pixmap)
}

/// Measures a PNG file (a screenshot).
pub fn load_png(path: &std::path::Path) -> Picture {
    measure(&resvg::tiny_skia::Pixmap::load_png(path).expect("a PNG"))
}
