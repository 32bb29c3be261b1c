"""analytics.svg: pure functions from numbers to SVG markup. Bars proportional to their values, lines
through their points, an empty chart that says so, every label escaped, and well-formed XML."""

import xml.etree.ElementTree as ET

import pytest

from analytics.svg import HEIGHT, Series, bar_chart, legend, line_chart, nice_ceiling

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
    assert root.find("svg:text", NS).text == "No messages in this period"
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
    assert float(dot.get("cx")) == pytest.approx(44 + (400 - 44 - 8) / 2)


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
