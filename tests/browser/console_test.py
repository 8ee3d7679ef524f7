"""The web console in a real browser: Debian's chromium driven by
Playwright, against a real `shopshield serve` on a fresh SQLite store.

Usage: python console_test.py PATH/TO/shopshield

Covers: sign-in and sign-out; a reviewer decides a case and the seller
then sees it; the evidence highlighting; the report renders with its
charts; a form post without the CSRF token is refused. Screenshots go to
test-artifacts/browser/ (ignored by git). Prints `N passed, M failed`.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("SHOPSHIELD_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, key, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def key(binary, data, *args):
    out = subprocess.run(
        [binary, "--data", data, "keys", "create", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def main():
    binary = os.path.abspath(sys.argv[1])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    data = tempfile.mkdtemp(prefix="shopshield-browser-")
    # Any mention of a registered mark goes to human review.
    Path(data, "shopshield.toml").write_text("[gate]\nreview = 0.05\nreject = 0.999\n")
    admin = key(binary, data, "--role", "admin", "--principal", "admin-1")
    reviewer = key(binary, data, "--role", "reviewer", "--principal", "rev-1")
    seller = key(binary, data, "--role", "seller", "--shop", "shop-1", "--principal", "seller-1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [binary, "--data", data, "serve", "--addr", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = []
    try:
        api = Api(base)
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        s, b = api.call("POST", "/v1/holders", admin, {"id": "nike", "name": "Nike, Inc."})
        assert s == 201, b
        s, b = api.call(
            "POST",
            "/v1/rights",
            admin,
            {"id": "r-nike", "holder": "nike", "kind": "trademark", "mark": "Nike",
             "nice_classes": [25, 28], "regions": ["*"]},
        )
        assert s == 201, b
        listing = {"id": "l-1", "shop_id": "shop-1", "region": "DE", "category": "apparel/shoes",
                   "title": "Runner sneakers by <Nike>", "brand": "Nike",
                   "description": "Comfortable shoes, like Nike Air."}
        s, d = api.call("POST", "/v1/listings", seller, listing)
        assert s == 201 and d["action"] == "review", d
        # A registered logo, and a photo with it printed on a product (the
        # demo's images): the case page outlines where the logo was found.
        images = ROOT / "data" / "demo" / "images"

        def data_url(name, mime):
            return f"data:{mime};base64," + base64.b64encode((images / name).read_bytes()).decode()

        s, b = api.call("POST", "/v1/holders", admin, {"id": "puma", "name": "Puma SE"})
        assert s == 201, b
        s, b = api.call(
            "POST",
            "/v1/rights",
            admin,
            {"id": "r-puma-logo", "holder": "puma", "kind": "logo",
             "image": data_url("puma-logo.png", "image/png"),
             "nice_classes": [21, 25], "regions": ["*"]},
        )
        assert s == 201, b
        coaster = {"id": "l-2", "shop_id": "shop-2", "region": "DE", "category": "home/kitchen",
                   "title": "Cork coaster", "description": "A printed cork coaster.",
                   "images": [data_url("coaster-with-puma-print.jpg", "image/jpeg")]}
        s, d = api.call("POST", "/v1/listings", admin, coaster)
        assert s == 201 and d["action"] == "review", d
        quad = d["violations"][0]["evidence"]["quad"]
        # A live listing the holder reports with a notice.
        honest = {"id": "l-3", "shop_id": "shop-3", "region": "DE", "category": "apparel/shoes",
                  "title": "Trail running shoes", "description": "Light shoes for forest paths."}
        s, d = api.call("POST", "/v1/listings", admin, honest)
        assert s == 201 and d["action"] == "approve", d
        notice = {
            "id": "n-1", "right_id": "r-nike",
            "work": "The Nike word mark and our catalogue photos",
            "items": [{"kind": "listing", "id": "l-3",
                       "material": "the product photo, copied from our catalogue"}],
            "explanation": "The photo is ours and was never licensed to this shop.",
            "complainant": {"name": "Ann Agent", "email": "ann@nike.example",
                            "address": "1 Main St, Beaverton"},
            "statements": {"good_faith": True, "accuracy_under_penalty_of_perjury": True,
                           "bona_fide": True},
            "signature": "/Ann Agent/",
        }
        # The holder's key, once the holder exists (the CLI writes it into
        # the running server's store).
        holder = key(binary, data, "--role", "rights_holder", "--holder", "nike", "--principal", "nike-agent-1")
        s, b = api.call("POST", "/v1/notices", holder, notice)
        assert s == 201, b
        # A listing naming the mark, for the holder to find and report.
        named = {"id": "l-4", "shop_id": "shop-4", "region": "DE", "category": "apparel/shoes",
                 "title": "Nike Air runner", "description": "Running shoes."}
        s, d = api.call("POST", "/v1/listings", admin, named)
        assert s == 201 and d["action"] == "review", d
        today = time.strftime("%Y-%m-%d", time.gmtime())

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

            def check(name, fn):
                ctx = browser.new_context()
                page = ctx.new_page()
                try:
                    fn(page)
                    results.append((name, None))
                    print(f"ok: {name}")
                except Exception:  # noqa: BLE001 - report every failure
                    results.append((name, traceback.format_exc()))
                    print(f"FAILED: {name}\n{traceback.format_exc()}")
                    page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
                finally:
                    ctx.close()

            def sign_in(page, secret):
                page.goto(base + "/console")
                assert page.url.endswith("/console/sign-in"), page.url
                page.get_by_label("API key").fill(secret)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()

            def sign_in_and_out(page):
                sign_in(page, "not-a-key")
                assert page.get_by_role("alert").inner_text() == "That API key is not valid."
                sign_in(page, reviewer)
                assert page.url.endswith("/console/queues"), page.url
                cookies = {c["name"]: c for c in page.context.cookies()}
                sess = cookies["ss_session"]
                assert sess["httpOnly"] and sess["sameSite"] == "Strict", sess
                page.screenshot(path=str(ARTIFACTS / "queues.png"), full_page=True)
                page.get_by_role("button", name="Sign out").click()
                page.wait_for_load_state()
                assert page.url.endswith("/console/sign-in"), page.url
                page.goto(base + "/console/queues")
                assert page.url.endswith("/console/sign-in"), "signed out: back to sign-in"

            def reviewer_decides_seller_sees(page):
                sign_in(page, reviewer)
                page.locator("main table a").first.click()
                row = page.get_by_role("row").filter(has_text="l-1@v1")
                assert "shop-1" in row.inner_text()
                page.get_by_role("link", name="l-1@v1").click()
                # The evidence spans, highlighted in the seller's own text.
                marks = page.locator("dd[data-field=title] mark").all_inner_texts()
                assert "Nike" in marks, marks
                assert "<Nike>" in page.locator("dd[data-field=title]").inner_text()
                page.screenshot(path=str(ARTIFACTS / "case.png"), full_page=True)
                page.get_by_role("button", name="Claim this case").click()
                page.wait_for_load_state()
                page.get_by_label("Uphold: remove the listing and record a violation").check()
                page.get_by_label("Note for the seller").fill("The Nike mark is used without authorisation.")
                page.get_by_role("button", name="Decide").click()
                page.wait_for_load_state()
                assert page.locator("#outcome").inner_text().startswith("Upheld as"), page.locator("#outcome").inner_text()
                page.get_by_role("button", name="Sign out").click()
                page.wait_for_load_state()
                sign_in(page, seller)
                assert page.url.endswith("/console/seller"), page.url
                status = page.locator("tr[data-listing=l-1] .status").inner_text()
                assert status == "removed", status
                body = page.locator("main").inner_text()
                assert "The Nike mark is used without authorisation." in body
                page.screenshot(path=str(ARTIFACTS / "seller.png"), full_page=True)
                page.get_by_label("your statement").first.fill("I sell genuine stock.")
                page.get_by_role("button", name="File appeal").click()
                page.wait_for_load_state()
                assert "waiting for a decision" in page.locator("main").inner_text()

            def logo_box_drawn(page):
                sign_in(page, reviewer)
                page.goto(base + "/console/cases/l-2@v1")
                figure = page.get_by_role("img", name="with the place of right r-puma-logo's logo outlined")
                assert figure.count() == 1, figure.count()
                box = page.locator("svg.located polygon.logo-box")
                points = [tuple(map(float, p.split(","))) for p in box.get_attribute("points").split()]
                assert len(points) == 4, points
                for (x, y), (qx, qy) in zip(points, quad):
                    assert abs(x - qx) < 0.11 and abs(y - qy) < 0.11, (points, quad)
                # Drawn over the photo, at the photo's displayed scale.
                drawn = box.bounding_box()
                svg = page.locator("svg.located").bounding_box()
                assert drawn and svg and 0 < drawn["width"] < svg["width"], (drawn, svg)
                assert svg["x"] <= drawn["x"] and drawn["x"] + drawn["width"] <= svg["x"] + svg["width"] + 2
                page.screenshot(path=str(ARTIFACTS / "logo-case.png"), full_page=True)

            def notice_accepted_in_console(page):
                sign_in(page, reviewer)
                page.get_by_role("link", name="Notices").click()
                page.wait_for_load_state()
                item = page.locator("section[data-notice=n-1][data-item=l-3]")
                text = item.inner_text()
                assert "Trail running shoes" in text and "never licensed" in text, text
                assert "approve" in text, text  # our own detectors' view
                page.screenshot(path=str(ARTIFACTS / "notices-queue.png"), full_page=True)
                item.get_by_label("Accept: take the listing down").check()
                item.get_by_label("Reason (both parties see it)").fill("The photo is the holder's catalogue photo.")
                item.get_by_role("button", name="Decide notice item").click()
                page.wait_for_load_state()
                assert "No notice items are waiting." in page.locator("main").inner_text()
                s, st = api.call("GET", "/v1/listings/l-3/status", admin)
                assert s == 200 and st["status"] == "removed", st
                page.get_by_role("button", name="Sign out").click()
                page.wait_for_load_state()
                sign_in(page, holder)
                page.get_by_role("link", name="Notices").click()
                page.wait_for_load_state()
                row = page.locator("tr[data-notice=n-1][data-item=l-3]")
                assert row.locator(".state").inner_text() == "accepted", row.inner_text()
                assert "catalogue photo" in row.inner_text(), row.inner_text()
                page.screenshot(path=str(ARTIFACTS / "notices-holder.png"), full_page=True)

            def holder_files_notice(page):
                def fill(good_faith):
                    page.goto(base + "/console/rights")
                    section = page.locator("section[data-right=r-nike]")
                    section.get_by_label("l-4: Nike Air runner").check()
                    section.get_by_label("The work or mark infringed").fill("The Nike word mark")
                    section.get_by_label("What infringes in each listing, and where").fill("the title uses our mark")
                    section.get_by_label("Why it infringes").fill("The shop is not an authorised Nike reseller.")
                    section.get_by_label("Your name", exact=True).fill("Ann Agent")
                    section.get_by_label("Your email").fill("ann@nike.example")
                    section.get_by_label("Postal address").fill("1 Main St, Beaverton")
                    section.get_by_label("Signature (your full name)").fill("Ann Agent")
                    section.get_by_label("Under penalty of perjury").check()
                    section.get_by_label("bona fide").check()
                    if good_faith:
                        section.get_by_label("I believe in good faith").check()
                    section.get_by_role("button", name="File notice").click()
                    page.wait_for_load_state()

                sign_in(page, holder)
                assert page.url.endswith("/console/rights"), page.url
                # The live catalogue searched for the holder's mark.
                row = page.locator("section[data-right=r-nike] tr[data-listing=l-4]")
                assert row.locator(".match").inner_text() == "exact", row.inner_text()
                page.screenshot(path=str(ARTIFACTS / "rights.png"), full_page=True)
                # Without the good-faith statement it is refused, naming it.
                fill(good_faith=False)
                assert "good_faith" in page.locator("body").inner_text(), page.locator("body").inner_text()
                fill(good_faith=True)
                assert page.url.endswith("/console/notices"), page.url
                rows = page.locator("tr[data-item=l-4]")
                assert rows.count() == 1 and rows.locator(".state").inner_text() == "pending", rows.all_inner_texts()
                s, q = api.call("GET", "/v1/notices/queue", reviewer)
                assert s == 200 and [e["item"]["item_id"] for e in q] == ["l-4"], q

            def report_renders(page):
                sign_in(page, admin)
                assert page.url.endswith("/console/report"), page.url
                page.get_by_label("From (YYYY-MM-DD)").fill(today)
                page.get_by_label("To (YYYY-MM-DD)").fill(today)
                page.get_by_role("button", name="Show report").click()
                page.wait_for_load_state()
                charts = page.locator("svg.chart")
                assert charts.count() == 4, charts.count()
                bars = page.locator("#chart-region g.bar")
                assert bars.count() == 1 and bars.get_attribute("data-label") == "DE"
                row = page.get_by_role("row", name="Listings rejected before listing")
                assert row.inner_text().split("\t")[-1].strip() == "1", row.inner_text()
                box = page.locator("#chart-kind").bounding_box()
                assert box and box["width"] > 100 and box["height"] > 20, box
                page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

            def csrf_less_post_refused(page):
                sign_in(page, admin)
                r = page.request.post(base + "/console/sign-out", form={})
                assert r.status == 403, r.status
                r = page.request.post(base + "/console/sign-out", form={"csrf": "forged"})
                assert r.status == 403, r.status
                r = page.request.post(base + "/console/cases/l-1@v1/claim", form={})
                assert r.status == 403, r.status
                # Still signed in: nothing was changed.
                page.goto(base + "/console/report")
                assert page.url.endswith("/console/report"), page.url

            check("sign_in_and_out", sign_in_and_out)
            check("reviewer_decides_seller_sees", reviewer_decides_seller_sees)
            check("logo_box_drawn", logo_box_drawn)
            check("notice_accepted_in_console", notice_accepted_in_console)
            check("holder_files_notice", holder_files_notice)
            check("report_renders", report_renders)
            check("csrf_less_post_refused", csrf_less_post_refused)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
