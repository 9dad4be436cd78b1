"""The chat drawer in real headless Chromium: open it, ask, see the answer with its numbers and
SQL, and keep the conversation across a reload (session storage). The served app has no OpenAI
key, so the built-in analyst answers, computed in a background process."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ask_expected import monthly_growth, raw_events

pytest_plugins = ["tests.browser_support"]  # demo_db, server_url, browser, page


def test_ask_a_question_in_the_drawer(page, demo_db):
    from tests.browser_support import wait_for_kpis  # a plugin: import it late

    growth = monthly_growth(raw_events(demo_db))
    complete = growth[growth["complete"] & growth["previous_active"].gt(0)]
    churn_rate = complete["churned"] / complete["previous_active"]
    month = churn_rate.idxmax()

    page.click("#chat-open")
    page.locator("#chat-drawer").wait_for()
    page.click(".chat-example:has-text('What month had the highest churn rate?')")
    expect(page.locator("#chat-question")).to_have_value("What month had the highest churn rate?")
    page.click("#chat-ask")

    answer = page.locator(".chat-turn .chat-answer").first
    answer.wait_for(timeout=60_000)
    assert f"{month:%B %Y} had the highest churn rate: {churn_rate.max():.1%}" in (
        answer.inner_text()
    )
    assert "June 2025 is still in progress" in answer.inner_text()
    assert answer.locator(".chat-numbers table tr").count() > 2  # the numbers it rests on
    sql = answer.locator(".chat-sql-details")
    assert not sql.locator("pre").first.is_visible()  # folded
    sql.locator("summary").click()
    assert "-- query: growth" in sql.locator("pre").nth(1).inner_text()
    expect(page.locator("#chat-question")).to_have_value("")
    expect(page.locator("#chat-pending")).to_be_hidden()

    # A question typed and sent with Enter; the conversation survives a reload.
    page.fill("#chat-question", "What is the meaning of life?")
    page.press("#chat-question", "Enter")
    page.locator(".chat-turn").nth(1).wait_for(timeout=60_000)
    assert "I could not match that question" in page.locator(".chat-turn").nth(1).inner_text()
    page.reload()
    wait_for_kpis(page)
    page.click("#chat-open")
    page.locator(".chat-turn").nth(1).wait_for()
    first_answer = f"{month:%B %Y} had the highest churn rate"
    assert page.locator(".chat-turn", has_text=first_answer).count() == 1
    assert page.locator(".chat-turn").count() == 2
