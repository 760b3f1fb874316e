/** @odoo-module **/
// An administrator triages from the dashboard: a source with a blocking
// readiness finding is fixed and its score rises; a dead letter whose mapping
// was completed is redriven from the preview. The data comes from
// oms_integration/tests/test_tour.py, which checks the outcome too.

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const BLOCKING = "No credentials to authenticate webhooks";
let scoreBefore = null;

function readScore() {
    const badge = document.querySelector(".o_form_view div[name=health_score] .o_field_widget");
    return badge ? parseInt(badge.textContent.trim(), 10) : NaN;
}

registry.category("web_tour.tours").add("oms_integration_cockpit_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps(
            "oms_integration.oms_integration_root_menu",
            "Open OMS Integration: it lands on the dashboard"
        ),
        {
            content: "The dashboard shows the source's card with its readiness",
            trigger: ".o_kanban_view .o_kanban_record:contains(Tour Shop):contains(Readiness)",
        },
        {
            content: "Open the source from its card",
            trigger: ".o_kanban_record span:contains(Tour Shop)",
            run: "click",
        },
        {
            content: "The blocking finding is listed, with how to fix it",
            trigger: `.o_form_view .o_field_widget[name=readiness_finding_ids] .o_data_row:contains(${BLOCKING})`,
            run() {
                scoreBefore = readScore();
                if (!(scoreBefore < 100)) {
                    console.error(`A blocking finding must lower the score, read ${scoreBefore}`);
                }
            },
        },
        {
            content: "Open the tab Credentials",
            trigger: ".o_notebook .nav-link[name=credentials]",
            run: "click",
        },
        {
            content: "Set the signing secret the provider gave",
            trigger: "div[name=signing_secret] input",
            run: "edit whsec_tour_secret_0123456789",
        },
        ...stepUtils.saveForm(),
        {
            content: "Back to the tab Readiness",
            trigger: ".o_notebook .nav-link[name=readiness]",
            run: "click",
        },
        {
            content: "The blocking finding is gone and the score rose",
            trigger: `.o_form_view .o_field_widget[name=readiness_finding_ids]:not(:contains(${BLOCKING}))`,
            run() {
                const scoreAfter = readScore();
                if (!(scoreAfter > scoreBefore)) {
                    console.error(`The score should rise: ${scoreBefore} then ${scoreAfter}`);
                }
            },
        },
        {
            content: "Open the dead letters",
            trigger: '.o_menu_sections [data-menu-xmlid="oms_integration.oms_integration_dead_letter_menu"]',
            run: "click",
        },
        {
            content: "Open the dead letter of order TOUR-1",
            trigger: ".o_list_view .o_data_row:contains(TOUR-1) .o_data_cell:first",
            run: "click",
        },
        {
            content: "Redrive it: the preview comes first",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Redrive)",
            run: "click",
        },
        {
            content: "The preview says it would succeed now",
            trigger: ".modal .o_data_row:contains(TOUR-1):contains(Would succeed)",
        },
        {
            content: "Requeue it",
            trigger: ".modal button[name=action_requeue]",
            run: "click",
        },
        {
            content: "Odoo confirms the requeue",
            trigger: ".o_notification:contains(requeued)",
        },
    ],
});
