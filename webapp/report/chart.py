"""The arrivals chart as numbers for an inline SVG (templates/report/_chart.html) and for the PDF: bars of
arrivals per time bucket and the running total as a line. No script, no library; the page's CSP allows no
inline styles, so the template sets classes and presentation attributes only."""

import math

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 44, 14, 34
MAX_LABELS = 8
MAX_BAR = 48


def nice_step(top, ticks=4):
    """A round step (1, 2, 5 × 10^n) for about `ticks` grid lines up to `top`."""
    if top <= ticks:
        return 1
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def arrivals_chart(buckets, width=WIDTH, height=HEIGHT):
    """{width, height, bars: [{x, y, w, h, n, label}], line: "x,y …", y_ticks: [{y, n}], total_ticks,
    x_labels: [{x, text}], plot: {left, right, top, bottom}} or None without arrivals."""
    if not buckets:
        return None
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    top = max(b.arrivals for b in buckets)
    step = nice_step(top)
    top = max(step, math.ceil(top / step) * step)
    total = buckets[-1].total or 1
    slot = plot_w / len(buckets)
    gap = max(min(4, slot * 0.2), slot - MAX_BAR)  # few buckets: narrow bars, not blocks
    bars, points = [], []
    for i, b in enumerate(buckets):
        h = plot_h * b.arrivals / top
        x = LEFT + i * slot
        bars.append(
            {
                "x": round(x + gap / 2, 1),
                "y": round(TOP + plot_h - h, 1),
                "w": round(slot - gap, 1),
                "h": round(h, 1),
                "n": b.arrivals,
                "start": b.start,
            }
        )
        points.append(f"{round(x + slot, 1)},{round(TOP + plot_h - plot_h * b.total / total, 1)}")
    line = f"{LEFT},{TOP + plot_h} " + " ".join(points)
    every = max(1, math.ceil(len(buckets) / MAX_LABELS))
    x_labels = [{"x": round(LEFT + i * slot, 1), "start": b.start} for i, b in enumerate(buckets) if i % every == 0]
    y_ticks = [{"y": round(TOP + plot_h - plot_h * n / top, 1), "n": n} for n in range(0, top + 1, step)]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "line": line,
        "x_labels": x_labels,
        "y_ticks": y_ticks,
        "total": buckets[-1].total,
        "total_y": TOP,
        "plot": {"left": LEFT, "right": width - RIGHT, "top": TOP, "bottom": TOP + plot_h},
    }
