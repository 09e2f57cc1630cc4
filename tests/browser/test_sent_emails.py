"""A real browser: staff open "Sent e-mails", read one rendered, and follow its link."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import OutgoingMessage
from clinic.outbox import message_queue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_scheduler_reads_a_sent_email_rendered_and_its_link_opens_in_a_new_tab(
    page, page_watch, live_server, login, scheduler, settings
):
    settings.EMAIL_HOST = ""  # mail goes to files: the embedded default
    link = f"{live_server.url}/accounts/password_reset/"
    message = message_queue(
        key="browser:sent:1", kind="portal_invitation", to_email="dr.nguyen@riverbend.example",
        template="portal_invitation", context={"physician": "Dr Lan Nguyen", "link": link},
    )  # fmt: skip
    OutgoingMessage.objects.filter(pk=message.pk).update(status=OutgoingMessage.Status.SENT, sent_at=timezone.now())

    login(scheduler.email)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Sent e-mails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sent e-mails")
    page.get_by_role("link", name=message.subject).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(message.subject)
    expect(page.get_by_text("dr.nguyen@riverbend.example")).to_be_visible()
    expect(page.locator("pre").filter(has_text="Dear Dr Lan Nguyen,")).to_be_visible()  # the text part
    html_part = page.frame_locator('iframe[title="HTML part of the e-mail"]')
    expect(html_part.get_by_text("Dear Dr Lan Nguyen,")).to_be_visible()
    with page.expect_popup() as opened:
        html_part.get_by_role("link", name="Choose your password").click()
    new_tab = opened.value
    page_watch.watch(new_tab)
    new_tab.wait_for_load_state()
    expect(new_tab).to_have_url(link)
    expect(new_tab.get_by_role("heading", level=1)).to_have_text("Reset your password")
    page_watch.check()  # neither tab met a 4xx/5xx or a console error
