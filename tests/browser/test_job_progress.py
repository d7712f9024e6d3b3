"""Long work in real Chromium: an admin asks for the zip of every research file, the page
answers at once with the job's page, which follows the worker on its own until the
file is offered, under the Content-Security-Policy and without serious accessibility
problems; a coordinator's dyad import the same way. With ``CONTINUUM_SCREENSHOTS=1`` the
job's page is saved, waiting and done, into docs/screenshots/."""

import io
import zipfile

import pytest

from tests.browser.conftest import Visit, serious_violations, shoot
from tests.browser.test_csp import COLLECT
from tests.browser.test_send_progress import PHONE, demo  # noqa: F401, F811 (the fixture)
from tests.delivery.conftest import run_worker

pytestmark = pytest.mark.browser


def test_a_zip_is_followed_from_the_request_to_the_download(demo, chromium, live_server):  # noqa: F811
    tab = Visit(chromium, live_server.url, width=PHONE)
    tab.context.add_init_script(COLLECT)
    tab.sign_in("admin@example.org", "continuum-demo")
    tab.go("/exports/")
    tab.page.get_by_label("Cohort").select_option(index=1)
    tab.page.get_by_label("File").select_option("zip")
    tab.page.get_by_role("button", name="Download").click()
    tab.page.wait_for_load_state()
    assert "/jobs/" in tab.page.url
    assert tab.page.get_by_role("status").filter(has_text="Waiting for the worker").is_visible()
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert serious_violations(tab.page) == []
    shoot(tab.page, "job-waiting-390.png")

    run_worker()  # the page's script notices on its own
    link = tab.page.get_by_role("link", name="Download demo-2026-zip.zip")
    link.wait_for(timeout=15_000)
    assert tab.page.get_by_text("The file is ready").is_visible()
    assert serious_violations(tab.page) == []
    shoot(tab.page, "job-zip-ready-390.png")
    with tab.page.expect_download() as download:
        link.click()
    data = open(download.value.path(), "rb").read()
    assert "README.txt" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert tab.page.evaluate("window.__violations") == [] and tab.errors == []


def test_an_import_is_followed_to_its_outcome(demo, chromium, live_server, tmp_path):  # noqa: F811
    csv = tmp_path / "dyads.csv"
    csv.write_text(
        "mentor_email,mentor_name,protege_email,protege_name,kind,supervisory,started_on\n"
        + "".join(f"n{i}@example.org,New {i},q{i}@example.org,Next {i},,,\n" for i in range(5))
    )
    tab = Visit(chromium, live_server.url, width=PHONE)
    tab.context.add_init_script(COLLECT)
    tab.sign_in("coordinator@example.org", "continuum-demo")
    tab.go("/coordinate/demo/2026/manage/dyads/import/")
    tab.page.set_input_files("input[type=file]", str(csv))
    tab.page.get_by_role("button", name="Check the file").click()
    tab.page.wait_for_load_state()
    tab.page.get_by_role("button", name="Import these dyads").click()
    tab.page.wait_for_load_state()
    assert "/jobs/" in tab.page.url
    run_worker()
    tab.page.get_by_text("Imported 5 dyads (10 new participants).").wait_for(timeout=15_000)
    tab.page.get_by_role("link", name="Open the cohort").click()
    tab.page.wait_for_load_state()
    assert tab.page.url.endswith("/coordinate/demo/2026/")
    assert tab.page.evaluate("window.__violations") == [] and tab.errors == []
