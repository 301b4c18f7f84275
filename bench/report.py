"""bench/results.md, bench/results.json and the latency chart, from one run's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHART_KEYS = (
    "steady_api_projects",
    "steady_html_projects",
    "first_request_cookie",
    "first_request_url",
    "issuance_1_client",
    "redemption_growth",
)
SUBJECT_COLOUR = (200, 70, 40)
BASELINE_COLOUR = (40, 90, 180)


def write_json(
    path: Path, meta: dict[str, Any], figures: list[dict[str, Any]], notes: dict[str, Any]
) -> None:
    path.write_text(json.dumps({"meta": meta, "figures": figures, "notes": notes}, indent=2) + "\n")


def write_markdown(
    path: Path, meta: dict[str, Any], figures: list[dict[str, Any]], notes: dict[str, Any], chart: str
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Recorded {meta['date']} with `{meta['command']}` (commit `{meta['commit']}`).",
        "",
        f"Machine: {meta['machine']}. Versions: {meta['versions']}.",
        "",
        f"Method: {meta['method']}",
        "",
        "| figure | SSO median / p95 | baseline median / p95 | ratio (median) | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for figure in figures:
        subject, baseline, goal = figure["subject"], figure["baseline"], figure["goal"]
        limit = (
            f"≤ {goal['limit']:g}" if goal["kind"] == "ratio" else f"≤ +{goal['limit']:g} {figure['unit']}"
        )
        measured = (
            f"{figure['ratio_median']:.3f}"
            if goal["kind"] == "ratio"
            else f"{figure['ratio_median']:.3f} (+{goal['measured']:.1f} {figure['unit']})"
        )
        lines.append(
            f"| {figure['title']} | {_pair(subject, figure['unit'])} | {_pair(baseline, figure['unit'])} "
            f"| {measured} | {limit} | {'yes' if figure['met'] else '**no**'} |"
        )
    lines += ["", "Subjects and baselines:", ""]
    for figure in figures:
        extra = figure.get("extra")
        rates = (
            f"; requests/s {extra['subject_requests_per_s']} vs {extra['baseline_requests_per_s']}"
            if extra
            else ""
        )
        lines.append(
            f"- {figure['title']}: {figure['subject']['label']} against {figure['baseline']['label']}"
            f" ({figure['subject']['count']} and {figure['baseline']['count']} samples{rates})."
        )
    lines += ["", "## Notes", ""]
    lines += [f"- **{name}**: {value}" for name, value in notes.items()]
    lines += ["", f"![latency distributions, SSO against vanilla]({chart})", ""]
    path.write_text("\n".join(lines))


def _pair(summary: dict[str, Any], unit: str) -> str:
    if summary["count"] == 1:
        return f"{summary['median']:.1f} {unit}"
    return f"{summary['median']:.1f} / {summary['p95']:.1f} {unit}"


def write_chart(
    path: Path, figures: list[dict[str, Any]], samples: dict[str, tuple[list[float], list[float]]]
) -> None:
    """One panel per figure: the cumulative distribution of latencies, subject against baseline."""
    from PIL import Image, ImageDraw

    shown = [figure for figure in figures if figure["key"] in samples and figure["key"] in CHART_KEYS]
    columns, panel_width, panel_height, margin = 2, 420, 220, 40
    rows = (len(shown) + columns - 1) // columns
    image = Image.new("RGB", (columns * panel_width, rows * panel_height + 30), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 8), "Cumulative latency distribution (ms): red = subject, blue = baseline", fill="black")
    for index, figure in enumerate(shown):
        left = (index % columns) * panel_width + margin
        top = (index // columns) * panel_height + 30 + 20
        width, height = panel_width - 2 * margin, panel_height - 2 * margin
        subject, baseline = samples[figure["key"]]
        ceiling = sorted(subject + baseline)[int(0.99 * (len(subject) + len(baseline))) - 1] * 1.05
        draw.text((left, top - 18), figure["title"][:60], fill="black")
        draw.rectangle((left, top, left + width, top + height), outline=(160, 160, 160))
        for fraction in (0.25, 0.5, 0.75, 1.0):
            x = left + fraction * width
            draw.text((x - 12, top + height + 4), f"{fraction * ceiling:.0f}", fill=(90, 90, 90))
        for values, colour in ((baseline, BASELINE_COLOUR), (subject, SUBJECT_COLOUR)):
            ordered = sorted(values)
            points = [
                (
                    left + min(value, ceiling) / ceiling * width,
                    top + height - (rank + 1) / len(ordered) * height,
                )
                for rank, value in enumerate(ordered)
            ]
            draw.line(points, fill=colour, width=2)
    image.save(path, optimize=True)
