/** @odoo-module **/
// A Vietnamese user opens the dashboard and a source form, tab by tab: every
// label, tab, button and column title shown is reported to the test
// (oms_integration/tests/test_tour.py), which checks that none of ours is
// left in English.

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const LABELS = [
    ".o_menu_sections .dropdown-toggle",
    ".o_menu_sections .o_nav_entry",
    ".o_control_panel .o_last_breadcrumb_item",
    ".o_kanban_record .text-muted",
    ".o_kanban_record .badge",
    ".o_kanban_record button",
    ".o_kanban_record a",
    ".o_form_label",
    ".o_notebook .nav-link",
    ".o_form_statusbar button",
    ".o_stat_text",
    ".o_form_view .alert",
    ".o_form_view th",
    ".o_form_view .o_horizontal_separator",
    ".o_form_view .o_field_selection span",
    ".o_form_view .o_field_badge",
];

function reportLabels(where) {
    const texts = new Set();
    for (const element of document.querySelectorAll(LABELS.join(","))) {
        const text = (element.innerText || "").trim();
        if (text) {
            texts.add(text);
        }
    }
    console.log(`oms-labels ${where}: ${JSON.stringify([...texts])}`);
}

const TABS = [
    "readiness",
    "connection",
    "credentials",
    "order_defaults",
    "matching",
    "retries",
    "consent",
];

registry.category("web_tour.tours").add("oms_integration_vietnamese_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("oms_integration.oms_integration_root_menu", "Open OMS Integration"),
        {
            content: "The dashboard",
            trigger: ".o_kanban_view .o_kanban_record:contains(Tour Shop)",
            run: () => reportLabels("dashboard"),
        },
        {
            content: "Open the source",
            trigger: ".o_kanban_record span:contains(Tour Shop)",
            run: "click",
        },
        ...TABS.flatMap((tab) => [
            {
                content: `Tab ${tab}`,
                trigger: `.o_form_view .o_notebook .nav-link[name=${tab}]`,
                run: "click",
            },
            {
                content: `Read tab ${tab}`,
                trigger: `.o_form_view .o_notebook .nav-link.active[name=${tab}]`,
                run: () => reportLabels(`form ${tab}`),
            },
        ]),
    ],
});
