#!/usr/bin/env python3
"""The admin console in a real headless Chromium (Debian's chromium and chromium-driver, through Selenium).

Run by Tests/EndToEndTests/ConsoleBrowserTests.swift, which starts the mock STS and the real `tenantgate serve`
and writes --info: the console's URL, the proxy, its CA, and tokens minted by the mock. Every wait is bounded;
exit 0 when every step holds, 1 with the failing step otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

CONTOSO = "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0"
FABRIKAM = "0da59725-89fe-4a2f-bf22-fd4536c9baac"
NORTHWIND = "8ac90d1b-d459-4375-a421-dd0005f9d0d1"
ADATUM = "4760d329-4de4-4d52-bfed-ecc7ef0af950"
WAIT_SECONDS = 15


class CheckFailed(Exception):
    pass


def check(condition, message):
    """A check that holds under python3 -O too (assert statements vanish there)."""
    if not condition:
        raise CheckFailed(str(message))


def swapped_page(error):
    """Chromedriver's words when an element found a moment ago belongs to a document a reload replaced (it says
    so as an "unknown error", not as a stale element), or when a command ran into the navigation itself ("aborted
    by navigation": seen once in CI, a find right after a click that reloads the page)."""
    words = error.msg or ""
    return (isinstance(error, StaleElementReferenceException) or "does not belong to the document" in words
            or "aborted by navigation" in words)


class Tolerant:
    """A WebDriverWait whose conditions look again when the page was swapped under them."""

    def __init__(self, wait):
        self._wait = wait

    def until(self, condition):
        def tolerant(driver):
            try:
                return condition(driver)
            except WebDriverException as error:
                if swapped_page(error):
                    return False
                raise
        return self._wait.until(tolerant)


class Console:
    def __init__(self, info, screenshots):
        self.info = info
        self.base = info["admin"]
        self.screenshots = screenshots
        options = Options()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,800", "--no-first-run", "--disable-extensions"):
            options.add_argument(argument)
        service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(WAIT_SECONDS)
        # A page that a change reloads may be swapped under a wait's feet: look again rather than fail.
        self.wait = Tolerant(WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException]))

    def step(self, text):
        print("step:", text, flush=True)

    def shot(self, name):
        if self.screenshots:
            self.driver.save_screenshot(os.path.join(self.screenshots, name + ".png"))

    def find(self, selector):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def click(self, selector):
        """Finds (again if a reload swapped the page under the find) and clicks once. When the click itself starts
        a navigation, chromedriver may report the element gone after the click landed: that is the click working,
        and clicking again would click twice (a sign-in callback sent twice, a switch flipped back)."""
        element = self.find(selector)
        try:
            element.click()
        except WebDriverException as error:
            if not swapped_page(error):
                raise

    def reloading(self, *actions):
        """Runs actions that end in a reload, and returns once the new page replaced the old one: a find right
        after them could otherwise land on the old page just before it goes (chromedriver then fails the click)."""
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        for action in actions:
            action()

        def replaced(_):
            try:
                old_page.is_enabled()
                return False
            except WebDriverException as error:
                if swapped_page(error):
                    return True
                raise
        self.wait.until(replaced)

    def sign_in(self, user):
        self.driver.get(self.base + "/console")
        self.wait.until(EC.element_to_be_clickable((By.ID, "user-" + user)))
        self.click("#user-" + user)
        self.wait.until(lambda d: d.find_elements(By.ID, "signed-in-user") or d.find_elements(By.ID, "message"))
        refusal = self.driver.find_elements(By.ID, "message")
        check(not refusal or "Sign-in failed" not in refusal[0].text, refusal and refusal[0].text)

    def sign_out(self):
        self.driver.find_element(By.ID, "sign-out").click()
        # The page signed out from may itself be a message page: wait for the new one's words.
        self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#message h1"), "Signed out"))

    def exchange(self, tenant):
        """A token exchange created in Contoso signing in to `tenant`, through the proxy with curl."""
        result = subprocess.run(
            ["curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "--proxy", self.info["proxy"],
             "--cacert", self.info["ca"], "--proxy-header",
             "Proxy-Authorization: Bearer " + self.info["maker_token_contoso"], "-d",
             "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=x",
             "https://login.microsoftonline.com/%s/oauth2/v2.0/token" % tenant],
            capture_output=True, text=True, timeout=30)
        return int(result.stdout or 0)

    def api(self, method, path, body, token):
        request = urllib.request.Request(self.base + path, method=method, data=json.dumps(body).encode(),
                                         headers={"Authorization": "Bearer " + token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def fetch_status(self, method, path, body):
        """A change sent from the page's own JavaScript context, with its session cookie and CSRF token."""
        return self.driver.execute_async_script(
            """
            const [method, path, body, done] = arguments;
            fetch(path, {method, credentials: "same-origin", body: JSON.stringify(body),
                         headers: {"Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf}})
              .then((response) => done(response.status), () => done(0));
            """, method, path, body)


def run(console):
    driver = console.driver
    rules_path = ("/providers/PowerPlatform.Governance/v1/tenants/%s/tenantIsolationPolicy/rules" % CONTOSO)

    console.step("a Power Platform Administrator signs in with Entra (code + PKCE) and lands on tenant isolation")
    console.sign_in("megan")
    check(driver.current_url.endswith("/console/isolation"), driver.current_url)
    user = console.find("#signed-in-user").text
    check(user == "Megan Bowen", user)
    state = console.find("#isolation-state").text
    check(state == "On", state)
    check(driver.find_elements(By.CSS_SELECTOR, 'tr[data-rule-row="%s"]' % FABRIKAM), "no rule row for Fabrikam")
    console.shot("isolation")

    console.step("the keyboard opens and closes the New tenant rule dialog")
    console.find("#new-rule").send_keys(Keys.ENTER)
    console.wait.until(lambda d: d.execute_script("return document.getElementById('rule-dialog').open"))
    focused = driver.switch_to.active_element.get_attribute("id")
    check(focused == "rule-tenant", focused)
    console.shot("isolation-new-rule")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    console.wait.until(lambda d: not d.execute_script("return document.getElementById('rule-dialog').open"))

    console.step("Contoso -> Northwind is blocked by Contoso's isolation")
    status = console.exchange(NORTHWIND)
    check(status == 403, status)

    console.step("the Activity page shows the blocked line with the rule that would allow it")
    driver.get(console.base + "/console/activity")
    fix = console.find('tr.decision-blocked a[href*="add=%s"]' % NORTHWIND)
    check("Northwind" in fix.text, fix.text)
    fix_url = fix.get_attribute("href")
    console.wait.until(EC.text_to_be_present_in_element((By.ID, "live-status"), "Live"))
    driver.execute_script("window.notReloaded = true")
    activity_tab = driver.current_window_handle

    console.step("the rule is added through the dialog, opened pre-filled from that link")
    driver.switch_to.new_window("tab")
    driver.get(fix_url)
    console.wait.until(lambda d: d.execute_script("return document.getElementById('rule-dialog').open"))
    tenant = console.find("#rule-tenant").get_attribute("value")
    check(tenant == NORTHWIND, tenant)
    console.wait.until(EC.text_to_be_present_in_element((By.ID, "rule-resolved"), "Northwind"))
    direction = Select(console.find("#rule-direction")).first_selected_option.get_attribute("value")
    check(direction == "outbound", direction)
    # The link could come from any site: Enter alone must not save what it suggests.
    focused = driver.execute_script("return document.activeElement.dataset.action || document.activeElement.id")
    check(focused == "close-dialog", focused)
    console.click("#rule-save")
    console.find('tr[data-rule-row="%s"]' % NORTHWIND)

    console.step("a link suggesting anything but a tenant ID (here the allow-all rule) opens no dialog")
    driver.get(console.base + "/console/isolation?add=%2A&direction=both")
    console.find("#new-rule")
    opened = driver.execute_script("return document.getElementById('rule-dialog').open")
    check(not opened, opened)

    console.step("a tenant the directory does not know is refused inline in the dialog")
    console.click("#new-rule")
    console.find("#rule-tenant").send_keys("nowhere.example")
    console.wait.until(EC.text_to_be_present_in_element((By.ID, "rule-resolved"), "not a domain the policies know"))
    console.click("#rule-save")
    error = console.wait.until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#rule-dialog [data-error]").text or False)
    check("nowhere.example" in error, error)
    console.shot("isolation-error")
    console.click("#rule-dialog [data-action=close-dialog]")

    console.step("the very next token exchange is allowed")
    status = console.exchange(NORTHWIND)
    check(status == 200, status)

    console.step("the Activity page shows that exchange's line without a reload")
    driver.switch_to.window(activity_tab)
    console.find("tbody tr.fresh.decision-allowed")
    row = driver.find_element(By.CSS_SELECTOR, "#activity tbody tr")
    check("Northwind" in row.text and "Allowed" in row.text, row.text)
    check(driver.execute_script("return window.notReloaded === true"), "the Activity page was reloaded")
    console.shot("activity")

    console.step("a stale edit shows the conflict")
    driver.switch_to.new_window("tab")
    driver.get(console.base + "/console/isolation")
    console.find('tr[data-rule-row="%s"]' % ADATUM)
    changed = console.api("PATCH", rules_path + "/" + FABRIKAM, {"direction": "both"},
                          console.info["admin_token_megan"])
    check(changed == 200, changed)
    Select(console.find('select[data-rule="%s"]' % ADATUM)).select_by_value("inbound")
    console.wait.until(EC.visibility_of_element_located((By.ID, "conflict")))
    console.shot("isolation-conflict")
    console.reloading(lambda: console.click("#conflict button"))
    console.wait.until(lambda d: Select(d.find_element(By.CSS_SELECTOR, 'select[data-rule="%s"]' % FABRIKAM))
                       .first_selected_option.get_attribute("value") == "both")

    console.step("isolation is switched Off and On again, and a rule is deleted after confirming")
    console.reloading(lambda: console.click("#isolation-enabled"))
    console.wait.until(EC.text_to_be_present_in_element((By.ID, "isolation-state"), "Off"))
    console.reloading(lambda: console.click("#isolation-enabled"))
    console.wait.until(EC.text_to_be_present_in_element((By.ID, "isolation-state"), "On"))
    console.reloading(lambda: console.click('button[data-action="delete-rule"][data-rule="%s"]' % ADATUM),
                      lambda: console.wait.until(EC.alert_is_present()).accept())
    console.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-rule-row="%s"]' % ADATUM))

    console.step("the Report shows the matrix with names and suggests rules with Add rule")
    driver.get(console.base + "/console/report?period=all")
    matrix = console.find("#matrix")
    check("Contoso" in matrix.text and "Northwind" in matrix.text, matrix.text)
    console.shot("report")

    console.step("What if answers the check question with its explanation")
    driver.get(console.base + "/console/what-if")
    console.find("#question-other").send_keys("northwind.onmicrosoft.com")
    console.click("#question-ask")
    explanation = console.find("#explanation").text
    check("Allowed" in explanation, explanation)
    console.shot("what-if")

    console.step("readable on a narrow window")
    driver.set_window_size(420, 800)
    driver.get(console.base + "/console/isolation")
    console.find("#rules")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 1, overflow)
    console.shot("isolation-narrow")
    driver.set_window_size(1280, 800)

    console.step("sign-out ends the session")
    console.sign_out()
    driver.get(console.base + "/console/isolation")
    console.find("#user-megan")

    console.step("a Security Administrator sees cross-tenant access but cannot change isolation")
    console.sign_in("adele")
    check(driver.current_url.endswith("/console/cross-tenant-access"), driver.current_url)
    page_text = console.find("#cross-tenant-access").text
    check("Default settings" in page_text, page_text)
    console.step("she adds an organization; every setting starts inherited from the default")
    console.click("#add-partner")
    console.find("#partner-tenant").send_keys(FABRIKAM)
    console.click("#partner-save")
    partner = console.find('article[data-partner="%s"]' % FABRIKAM)
    check("Fabrikam" in partner.text, partner.text)
    badges = len(partner.find_elements(By.CSS_SELECTOR, ".badge"))
    check(badges == 5, badges)
    console.shot("cross-tenant-access")

    console.step("she edits the organization's B2B collaboration inbound: that setting is no longer inherited")
    partner.find_element(By.CSS_SELECTOR, 'button[data-action="edit-document"]').click()
    text = console.find("#document-text")
    document = json.loads(text.get_attribute("value"))
    document["b2bCollaborationInbound"] = {
        "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {"accessType": "blocked",
                         "targets": [{"target": "AllApplications", "targetType": "application"}]}}
    driver.execute_script("arguments[0].value = arguments[1]", text, json.dumps(document))
    console.click("#document-save")
    console.wait.until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, 'article[data-partner="%s"] .badge' % FABRIKAM)) == 4)
    partner_text = console.find('article[data-partner="%s"]' % FABRIKAM).text
    check("Blocked: All users" in partner_text, partner_text)

    console.step("invalid settings are refused in the dialog; reset the default; delete the organization")
    console.click('article[data-partner="%s"] button[data-action="edit-document"]' % FABRIKAM)
    text = console.find("#document-text")
    driver.execute_script("arguments[0].value = arguments[1]", text,
                          json.dumps({"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "maybe"}}}))
    console.click("#document-save")
    error = console.wait.until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#document-dialog [data-error]").text or False)
    check("b2bCollaborationInbound" in error, error)
    console.click("#document-dialog [data-action=close-dialog]")
    console.reloading(lambda: console.click("#reset-default"),
                      lambda: console.wait.until(EC.alert_is_present()).accept())
    console.find("#default-settings")
    console.click('article[data-partner="%s"] button[data-action="delete-partner"]' % FABRIKAM)
    console.wait.until(EC.alert_is_present()).accept()
    console.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, 'article[data-partner="%s"]' % FABRIKAM))
    driver.get(console.base + "/console/isolation")
    console.wait.until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#message h1"), "cannot manage tenant isolation"))
    status = console.fetch_status("POST", rules_path, {"tenant": ADATUM, "direction": "both"})
    check(status == 403, status)
    console.sign_out()

    console.step("a user without a role is refused")
    console.sign_in("alex")
    console.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#message h1"), "Access denied"))
    console.shot("no-role")
    driver.get(console.base + "/console/activity")
    console.find("#user-alex")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--info", required=True)
    parser.add_argument("--screenshots", default="")
    arguments = parser.parse_args()
    with open(arguments.info) as file:
        info = json.load(file)
    if arguments.screenshots:
        os.makedirs(arguments.screenshots, exist_ok=True)
    console = Console(info, arguments.screenshots)
    try:
        run(console)
    except Exception as error:  # noqa: BLE001 -- any failure is the step's, reported with its page
        console.shot("failure")
        # Selenium's exceptions keep their message in .msg, out of repr.
        print("FAILED:", repr(error), getattr(error, "msg", "") or "", "at", console.driver.current_url,
              file=sys.stderr)
        return 1
    finally:
        console.driver.quit()
    print("console browser tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
