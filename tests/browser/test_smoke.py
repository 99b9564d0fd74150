from tests.browser.conftest import visit


def test_home(page):
    visit(page, "/", "home")
