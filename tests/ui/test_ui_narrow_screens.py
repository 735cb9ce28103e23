"""At 1024 px the resident filters wrap into two rows instead of squeezing their boxes."""
from ui.pages.residents_page import ResidentsPage


def test_the_resident_filters_wrap_when_narrow_and_keep_their_widths(qtbot, ctx):
    page = ResidentsPage(ctx)
    qtbot.addWidget(page)
    bar = page.filters.bar
    page.resize(1100, 500)
    page.show()
    qtbot.waitExposed(page)
    assert bar.wrapped is False
    status, tag = page.filters.status, page.filters.tag
    assert status.y() == page.filters.age_max.y()

    page.resize(470, 500)
    qtbot.waitUntil(lambda: bar.wrapped)
    qtbot.waitUntil(lambda: page.filters.age_max.y() > status.y())   # a second row
    for field in (status, tag, page.filters.gender, page.filters.residence,
                  page.filters.age_min, page.filters.age_max):
        assert field.width() >= field.sizeHint().width()
    assert bar.minimumSizeHint().width() < 470
