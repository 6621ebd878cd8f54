#!/usr/bin/env python3
"""The dashboard in a real browser: generates a small data set, runs `cltv run` on it, starts
`cltv serve` on a free loopback port, and drives headless Chromium through the overview, the
at-risk list, a search and a customer's page, checking the numbers shown against the API's.
Screenshots go to the artefact folder. Without Chromium, its driver or Selenium the test is skipped
(exit 77), except under CI=true, where it fails.

Usage: dashboard_browser_test.py --cltv PATH/cltv --artifacts DIR
"""
import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP_EXIT_CODE = 77
WAIT_SECONDS = 20


def browser_missing(what):
    if os.environ.get("CI") == "true":
        sys.exit(f"FAIL: {what} is missing, and CI=true needs this test to run (bash scripts/setup installs it)")
    print(f"SKIP: {what} is missing (bash scripts/setup installs it)")
    sys.exit(SKIP_EXIT_CODE)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    browser_missing("python3-selenium")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def die_with_parent():
    """Run in the server's process before cltv starts: Linux sends it SIGTERM when this test ends, even
    when killed (by ctest's timeout)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def wait_until_ready(base, server, log_path):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as log:
                sys.exit(f"FAIL: cltv serve exited with {server.returncode}:\n{log.read()}")
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    sys.exit(f"FAIL: cltv serve was not ready within {WAIT_SECONDS} s")


def shown_number(text):
    """The number in a shown value such as '1,234.50', '1,234.50 EUR' or '73.3%'."""
    return float(text.split()[0].replace(",", "").rstrip("%"))


def expect_shown(what, text, expected, decimals):
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    if abs(shown_number(text) - expected) > tolerance:
        raise AssertionError(f"{what}: the page shows {text!r}, the API says {expected}")


class Dashboard:
    def __init__(self, base, artifacts):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,900", "--hide-scrollbars"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        self.base = base
        self.artifacts = artifacts

    def open(self, route):
        self.driver.get(f"{self.base}/#/{route}")
        self.wait_for_view(route.split("/")[0])

    def wait_for_view(self, view):
        body = self.driver.find_element(By.TAG_NAME, "body")
        WebDriverWait(self.driver, WAIT_SECONDS).until(lambda _: body.get_attribute("data-ready") == view,
                                                      f"the {view} view did not load")

    def text(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def screenshot(self, name):
        """The whole page, however long, in a viewport 1366 px wide."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        viewport = {"width": 1366, "height": max(768, height), "deviceScaleFactor": 1, "mobile": False}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", viewport)
        time.sleep(0.3)  # the charts redraw at the new size
        path = os.path.join(self.artifacts, f"{name}.png")
        self.driver.save_screenshot(path)
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        print(f"screenshot: {path}")

    def console_errors(self):
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]


def check_dashboard(base, artifacts):
    run = get_json(f"{base}/v1/run")
    segments = get_json(f"{base}/v1/segments")
    dashboard = Dashboard(base, artifacts)
    try:
        dashboard.open("overview")
        expect_shown("customers", dashboard.text("#kpi-customers"), segments["customers"], 0)
        assert segments["customers"] == run["customers"]
        now_counts = dashboard.driver.find_elements(By.CSS_SELECTOR, "#level-table tbody tr:first-child td")
        assert len(now_counts) == len(segments["current_level_counts"]), "one count per level"
        for level, (cell, count) in enumerate(zip(now_counts, segments["current_level_counts"])):
            expect_shown(f"customers now at level {level}", cell.text, count, 0)
        expect_shown("spend at risk", dashboard.text("#kpi-spend-at-risk"), segments["at_risk"]["spend_at_risk"], 2)
        dashboard.screenshot("overview")

        dashboard.open("at-risk")
        first = segments["at_risk"]["rows"][0]
        first_row = dashboard.driver.find_element(By.CSS_SELECTOR, "#at-risk-body tr")
        assert first_row.get_attribute("data-customer-id") == first["customer_id"], "the first at-risk customer"
        shown_at_risk = first_row.find_element(By.CSS_SELECTOR, ".spend-at-risk").text
        expect_shown("first at-risk customer's spend at risk", shown_at_risk, first["spend_at_risk"], 2)
        dashboard.screenshot("at-risk")

        # Type a customer's id: the list filters by prefix; Enter opens the customer's page.
        searched = get_json(f"{base}/v1/segments?sort=p_down&limit=1")["at_risk"]["rows"][0]["customer_id"]
        box = dashboard.driver.find_element(By.ID, "at-risk-q")
        box.send_keys(searched)
        listed = "return [...document.querySelectorAll('#at-risk-body tr')].map((row) => row.dataset.customerId)"

        def filtered(driver):
            ids = driver.execute_script(listed)
            return searched in ids and all(listed_id.startswith(searched) for listed_id in ids)
        WebDriverWait(dashboard.driver, WAIT_SECONDS).until(filtered, "the list filtered by the typed id")
        box.send_keys(Keys.ENTER)
        dashboard.wait_for_view("customer")
        assert dashboard.driver.current_url.endswith("#/customer/" + urllib.parse.quote(searched, safe="")), \
            dashboard.driver.current_url
        customer = get_json(f"{base}/v1/customers/{urllib.parse.quote(searched, safe='')}")
        assert dashboard.text("#customer-id") == searched
        expect_shown("P(buy)", dashboard.text("#customer-p-buy"), customer["p_buy"] * 100, 1)
        expect_shown("p50", dashboard.text("#customer-p50"), customer["p50"], 2)
        expect_shown("expected spend", dashboard.text("#customer-expected"), customer["expected_spend"], 2)
        if "contributions" in customer:
            reasons = dashboard.driver.find_elements(By.CSS_SELECTOR, "#reasons .reason")
            assert len(reasons) == len(customer["contributions"]), "one reasons chart per part"
        dashboard.screenshot("customer")

        dashboard.open("quality")
        dashboard.screenshot("quality")

        errors = dashboard.console_errors()
        assert not errors, f"the browser console has errors: {errors}"
    except Exception:
        dashboard.driver.save_screenshot(os.path.join(artifacts, "failure.png"))
        raise
    finally:
        dashboard.driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cltv", required=True, help="the cltv binary")
    parser.add_argument("--artifacts", required=True, help="folder for the screenshots and the server's log")
    args = parser.parse_args()
    for program, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if not shutil.which(program):
            browser_missing(package)

    os.makedirs(args.artifacts, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cltv-dashboard-") as work:
        data = os.path.join(work, "tx.csv")
        runs = os.path.join(work, "work")
        subprocess.run([args.cltv, "generate", "--customers", "3000", "--months", "5", "--start", "2019-05",
                        "--seed", "3", "--out", data], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.cltv, "run", "--source", data, "--schema", "lpoint", "--work", runs, "--quiet"],
                       check=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = os.path.join(args.artifacts, "serve.log")
        with open(log_path, "w", encoding="utf-8") as log:
            server = subprocess.Popen([args.cltv, "serve", "--model", os.path.join(runs, "models", "LATEST"),
                                       "--input", data, "--schema", "lpoint", "--listen", f"127.0.0.1:{port}"],
                                      stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
            try:
                wait_until_ready(base, server, log_path)
                check_dashboard(base, args.artifacts)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    print(f"PASS: the dashboard shows the API's numbers ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
