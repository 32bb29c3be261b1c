"""analytics.svg: pure functions from numbers to SVG markup. Bars proportional to their values, lines
through their points, an empty chart that says so, every label escaped, and well-formed XML."""

import xml.etree.ElementTree as ET

import pytest

from analytics.svg import (
    HEIGHT,
    LEFT,
    RIGHT,
    TICK_FONT,
    WIDTH,
    Series,
    bar_chart,
    legend,
    line_chart,
    nice_ceiling,
    shown_x_labels,
    text_width,
    tick_label,
)

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 (our own markup) — fails on any unescaped label


def bars(markup: str) -> list[ET.Element]:
    return parse(markup).findall("svg:rect", NS)


def chart(labels, *series, kind=bar_chart):
    return kind(
        labels, list(series), title="Revenue", desc="By segment", empty_text="No messages in this period"
    )


def test_bar_heights_are_proportional_to_the_values_and_share_one_baseline():
    drawn = bars(chart(["a", "b", "c"], Series("this", (10.0, 20.0, 5.0))))
    heights = [float(b.get("height")) for b in drawn]
    assert heights[1] == pytest.approx(2 * heights[0]) and heights[2] == pytest.approx(heights[0] / 2)
    assert {round(float(b.get("y")) + float(b.get("height")), 2) for b in drawn} == {HEIGHT - 30}


def test_the_axis_top_is_a_round_number_above_the_largest_value():
    # 20 is the largest: the axis ends at 20, so its bar fills the plot's height exactly.
    tall = bars(chart(["a", "b"], Series("x", (20.0, 7.0))))[0]
    assert float(tall.get("y")) == pytest.approx(12)  # the plot's top margin
    assert [nice_ceiling(v) for v in (0, 0.4, 7, 20, 21, 230, 999)] == [1, 1, 10, 20, 25, 250, 1000]


def test_grouped_bars_one_per_series_side_by_side_with_their_classes():
    drawn = bars(chart(["vip", "active"], Series("this", (3.0, 1.0)), Series("before", (6.0, 0.0))))
    assert [b.get("class") for b in drawn] == ["bar s0", "bar s0", "bar s1", "bar s1"]
    xs = [float(b.get("x")) for b in drawn]
    assert xs[0] < xs[2] < xs[1] < xs[3]  # vip's two bars, then active's
    assert float(drawn[2].get("height")) == pytest.approx(2 * float(drawn[0].get("height")))
    assert float(drawn[3].get("height")) == 0


@pytest.mark.parametrize("kind", [bar_chart, line_chart])
@pytest.mark.parametrize(
    "labels, values", [([], ()), (["a", "b"], (0.0, 0.0))], ids=["no points", "all zero"]
)
def test_no_data_draws_no_mark_and_says_so(kind, labels, values):
    root = parse(chart(labels, Series("x", values), kind=kind))
    assert root.findall("svg:rect", NS) == [] and root.findall("svg:polyline", NS) == []
    assert "".join(root.find("svg:text", NS).itertext()) == "No messages in this period"
    assert "No messages in this period" in root.find("svg:desc", NS).text


def test_the_line_goes_through_each_point_scaled_like_the_bars():
    root = parse(chart(["1 Nov", "2 Nov", "3 Nov"], Series("SMS in", (0.0, 5.0, 10.0)), kind=line_chart))
    points = [tuple(map(float, p.split(","))) for p in root.find("svg:polyline", NS).get("points").split()]
    assert len(points) == 3 and points[0][0] < points[1][0] < points[2][0]
    baseline = points[0][1]
    assert baseline - points[2][1] == pytest.approx(2 * (baseline - points[1][1]))
    assert len(root.findall("svg:circle", NS)) == 3


def test_a_single_day_is_a_dot_in_the_middle():
    root = parse(chart(["1 Nov"], Series("SMS in", (3.0,)), kind=line_chart))
    (dot,) = root.findall("svg:circle", NS)
    assert float(dot.get("cx")) == pytest.approx(LEFT + (WIDTH - LEFT - RIGHT) / 2)


def test_labels_titles_and_names_are_escaped():
    evil = '<script>alert("x")</script> & co'
    markup = bar_chart([evil], [Series(evil, (1.0,))], title=evil, desc=evil, empty_text="none") + legend(
        [evil]
    )
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "&amp; co" in markup
    root = parse(markup.split("<ul")[0])
    assert root.find("svg:title", NS).text == evil  # read back as the text it was
    assert "<script>" not in legend([evil])


def test_the_chart_scales_to_its_box_and_is_labelled_for_screen_readers():
    root = parse(chart(["a"], Series("x", (1.0,))))
    assert root.get("viewBox") == "0 0 400 220" and root.get("width") == "100%"
    assert root.get("role") == "img" and root.find("svg:title", NS).text == "Revenue"
    assert "style" not in chart(["a"], Series("x", (1.0,)))  # the CSP refuses style attributes


def test_many_days_keep_a_readable_number_of_x_labels():
    labels = [f"{d} Nov" for d in range(1, 31)]
    root = parse(chart(labels, Series("x", tuple(float(d) for d in range(30))), kind=line_chart))
    ticks = [t.text for t in root.findall("svg:text", NS) if t.get("text-anchor") in ("middle", "end")]
    ticks = [t for t in ticks if t.endswith("Nov")]  # not the y axis' numbers
    assert 4 <= len(ticks) <= 5 and ticks[0] == "1 Nov"


def test_the_legend_names_each_series_with_its_colour_class():
    html = legend(["This period", "Previous period"])
    assert 'class="swatch s0"' in html and 'class="swatch s1"' in html
    assert html.index("This period") < html.index("Previous period")


def test_the_last_x_label_of_a_line_ends_at_the_edge_instead_of_being_cut():
    root = parse(chart(["1 Oct", "2 Oct", "3 Oct"], Series("x", (1.0, 2.0, 3.0)), kind=line_chart))
    x_labels = [t for t in root.findall("svg:text", NS) if t.text.endswith("Oct")]
    assert [t.get("text-anchor") for t in x_labels] == ["middle", "middle", "end"]


def y_ticks(markup: str) -> list[str]:
    return [t.text for t in parse(markup).findall("svg:text", NS) if t.get("x") == str(LEFT - 4)]


@pytest.mark.parametrize(
    "value, label",
    [
        (0, "0"),
        (0.5, "0.5"),
        (1.25, "1.25"),
        (2500, "2500"),
        (12500, "12.5k"),
        (50000, "50k"),
        (100000, "100k"),
        (125000, "125k"),
        (1_250_000, "1.25M"),
        (25_000_000, "25M"),
    ],
)
def test_a_y_tick_is_at_most_five_characters(value, label):
    assert tick_label(value) == label


def test_the_y_ticks_of_large_amounts_fit_left_of_the_axis_and_the_tooltips_stay_exact():
    # The walkthrough's 12 months of revenue: "100000" was cut to ".00000" (and "0000" on a phone).
    for top in (64_713.5, 99_999.0, 1_234_567.0, 12_345_678.0):
        markup = chart(["active", "vip"], Series("this", (top / 2, top)))
        for label in y_ticks(markup):
            assert text_width(label) <= LEFT - 4, label
    markup = chart(["vip"], Series("this", (64713.5,)))
    assert y_ticks(markup) == ["0", "50k", "100k"] and "64713.5</title>" in markup


def test_the_y_ticks_use_the_given_decimal_separator():
    assert tick_label(12500, ",") == "12,5k"
    assert y_ticks(
        bar_chart(["a"], [Series("x", (2.4,))], title="t", desc="d", empty_text="e", decimal=",")
    ) == [
        "0",
        "1,25",
        "2,5",
    ]


def line_x_labels(labels):
    step = (WIDTH - LEFT - RIGHT) / max(len(labels) - 1, 1)
    return [(LEFT + j * step, label) for j, label in enumerate(labels)]


def spans(shown):
    for x, label, anchor in shown:
        width = text_width(label)
        yield {"start": (x, x + width), "middle": (x - width / 2, x + width / 2), "end": (x - width, x)}[
            anchor
        ]


FRENCH_MONTHS = [
    "déc.",
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
]


@pytest.mark.parametrize(
    "labels",
    [
        [f"{m} {2025 if m == 'déc.' and n == 0 else 2026}" for n, m in enumerate([*FRENCH_MONTHS, "déc."])],
        [f"{d} nov." for d in range(4, 31)] + ["1 déc.", "2 déc.", "3 déc."],
        [f"{d} nov." for d in range(27, 31)] + ["1 déc.", "2 déc.", "3 déc."],
        [f"Sept. {d}, 2026" for d in range(1, 32)],
        ["4 nov.", "5 nov."],
    ],
    ids=["12 months", "30 days", "7 days", "long labels", "2 days"],
)
def test_x_labels_never_overlap_stay_inside_the_chart_and_end_on_the_last_one(labels):
    shown = shown_x_labels(line_x_labels(labels))
    assert shown[-1][1] == labels[-1] and shown[-1][2] == "end"
    drawn = list(spans(shown))
    assert drawn[0][0] >= 0 and drawn[-1][1] <= WIDTH
    assert all(right + 4 <= left for (_l, right), (left, _r) in zip(drawn, drawn[1:], strict=False))
    if len(labels) > 2:
        assert len(shown) >= 3  # still a readable axis: the start, the end and one between


def test_the_twelve_months_of_the_walkthrough_no_longer_touch_the_last_month():
    # "Sep 2026" was drawn right against "Déc 2026": the regular label before the last one goes.
    labels = [f"M{n:02d} 2026" for n in range(13)]
    shown = [label for _x, label, _a in shown_x_labels(line_x_labels(labels))]
    assert shown[0] == "M00 2026" and shown[-1] == "M12 2026" and "M11 2026" not in shown


def test_the_label_width_estimate_counts_narrow_characters_less():
    assert text_width("sept. 2026") < text_width("MMMMMMMMMM") and text_width("ab") == 2 * text_width("a")
    assert text_width("a", size=TICK_FONT * 2) == 2 * text_width("a")


def test_a_dashed_series_draws_a_dashed_line_and_ring_dots_and_its_legend_swatch_is_dashed():
    root = parse(
        chart(
            ["1 Nov", "2 Nov"],
            Series("SMS in", (1.0, 2.0)),
            Series("SMS out", (1.0, 2.0), dashed=True),
            kind=line_chart,
        )
    )
    assert [p.get("class") for p in root.findall("svg:polyline", NS)] == ["line s0", "line s1 dashed"]
    dots = root.findall("svg:circle", NS)
    assert {d.get("class") for d in dots} == {"dot s0", "dot s1 dashed"}
    # The ring is larger than the dot it may cover, so the one underneath shows through.
    assert float(dots[-1].get("r")) > float(dots[0].get("r"))
    html = legend(["SMS in", "SMS out"], dashed=[False, True], lines=True)
    assert 'class="swatch s0 line"' in html and 'class="swatch s1 line dashed"' in html


def test_a_long_empty_text_is_wrapped_inside_the_chart():
    text = "Inbound messages, but none answered automatically, handed to a person or opted out"
    root = parse(bar_chart(["a"], [Series("x", (0.0,))], title="t", desc="d", empty_text=text))
    lines = [t.text for t in root.find("svg:text", NS).findall("svg:tspan", NS)]
    assert len(lines) >= 2 and " ".join(lines) == text
    assert all(text_width(line, 17) <= WIDTH for line in lines)


def test_every_bar_group_is_named_a_long_name_on_two_lines():
    from analytics import svg

    labels = ["Automatique", "À une personne transmise", "Désinscrit"]
    chart = svg.bar_chart(
        labels,
        [svg.Series("Cette période", (50.0, 40.0, 10.0))],
        title="Automatisation",
        desc="",
        empty_text="",
    )
    assert "Automatique</text>" in chart and "Désinscrit</text>" in chart
    assert ">À une</tspan>" in chart and ">personne transmise</tspan>" in chart  # two lines at most
