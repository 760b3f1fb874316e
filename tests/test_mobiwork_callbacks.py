"""The bodies Odoo sends to Mobiwork, status labels, and Mobiwork's answers."""

import dataclasses
import importlib.util
import json
import pathlib
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from mobiwork_lib import callbacks
from oms_lib import status

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_const():
    """The addon's const.py, a plain module (its package imports Odoo)."""
    path = ROOT / "oms_integration_mobiwork" / "const.py"
    spec = importlib.util.spec_from_file_location("mobiwork_const", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


const = _load_const()


# --- status labels -----------------------------------------------------------


def test_default_labels_cover_every_core_status():
    assert set(const.DEFAULT_STATUS_LABELS) == set(status.STATUS_ORDER)


@pytest.mark.parametrize(
    ("our_status", "label"),
    [
        ("approved", "Đã duyệt"),
        ("processing", "Đang giao"),
        ("delivered", "Đã bán hàng"),
        ("cancelled", "Đã hủy"),
    ],
)
def test_default_status_labels(our_status, label):
    assert callbacks.status_label(our_status, const.DEFAULT_STATUS_LABELS) == label


def test_overrides_win_where_they_say_something():
    overrides = {"delivered": "Đã giao", "approved": "", "processing": None}
    labels = const.DEFAULT_STATUS_LABELS
    assert callbacks.status_label("delivered", labels, overrides) == "Đã giao"
    assert callbacks.status_label("approved", labels, overrides) == "Đã duyệt"
    assert callbacks.status_label("processing", labels, overrides) == "Đang giao"
    # A provider status the defaults do not know, given as a code.
    assert callbacks.status_label("returned", labels, {"returned": "TRA_HANG"}) == (
        "TRA_HANG"
    )


def test_a_status_without_label_is_refused():
    with pytest.raises(ValueError, match="add it to the status mapping"):
        callbacks.status_label("returned", const.DEFAULT_STATUS_LABELS)


# --- the Bill ----------------------------------------------------------------


def _lines():
    return [
        callbacks.ProductLine("SP001", 10, 125000, "THUNG", 10, 25000, "KHO-HCM"),
        callbacks.ProductLine("SP002", 24, 8500.0, "CHAI", "8", 4000, "KHO-HCM"),
        callbacks.ProductLine(
            "SP003", Decimal(5), "42000", "HOP", 5.0, 10000, "KHO-HCM"
        ),
        callbacks.ProductLine("SP004", 2, 310000, "BAO", 0, 0, "KHO-HCM"),
        callbacks.ProductLine("SP005", 3.0, 15000, "GOI", "KCT", 0, "KHO-HCM"),
    ]


def _bill_info(**changes):
    info = callbacks.BillInfo(
        bill_number="INV/2026/00042",
        order_number="DH-2026-000123",
        customer_code="KH00457",
        order_date=datetime(2026, 11, 22, 18, 30, tzinfo=timezone.utc),
        sale_date=date(2026, 11, 25),
        amount_tax=148500,
        lines=_lines(),
        free_lines=[
            callbacks.FreeLine("SP002", 2, "CHAI", "KHO-HCM", "Mua 24 tặng 2"),
            callbacks.FreeLine("SP099", 1, "CAI", "KHO-HCM"),
        ],
        order_discount=50000,
        phone="0903 456 789",
        address="45 Nguyễn Trãi, Quận 1, TP. Hồ Chí Minh",
    )
    return dataclasses.replace(info, **changes)


EXPECTED_BILL = {
    "trang_thai": "Đã bán hàng",
    "ma_phieu": "INV/2026/00042",
    "ma_phieu_dat": "DH-2026-000123",
    "ma_kh": "KH00457",
    "sdt": "0903 456 789",
    "dia_chi": "45 Nguyễn Trãi, Quận 1, TP. Hồ Chí Minh",
    "ngay_dat": "23/11/2026",  # 18:30 UTC on the 22nd is the 23rd in Vietnam
    "ngay_ban": "25/11/2026",
    "tong_tien_hang": 2329000,  # 1250000 + 204000 + 210000 + 620000 + 45000
    "tong_tien_vat": 148500,
    "tong_ck_sp": 39000,
    "ck_don_hang": 50000,
    "phai_thanh_toan": 2388500,  # 2329000 - 39000 - 50000 + 148500
    "san_pham": [
        {
            "ma_sp": "SP001",
            "ma_dvt": "THUNG",
            "vat": 10,
            "so_luong": 10,
            "ma_kho_xuat": "KHO-HCM",
            "don_gia": 125000,
            "chiet_khau_sp": 25000,
        },
        {
            "ma_sp": "SP002",
            "ma_dvt": "CHAI",
            "vat": 8,
            "so_luong": 24,
            "ma_kho_xuat": "KHO-HCM",
            "don_gia": 8500,
            "chiet_khau_sp": 4000,
        },
        {
            "ma_sp": "SP003",
            "ma_dvt": "HOP",
            "vat": 5,
            "so_luong": 5,
            "ma_kho_xuat": "KHO-HCM",
            "don_gia": 42000,
            "chiet_khau_sp": 10000,
        },
        {
            "ma_sp": "SP004",
            "ma_dvt": "BAO",
            "vat": 0,
            "so_luong": 2,
            "ma_kho_xuat": "KHO-HCM",
            "don_gia": 310000,
            "chiet_khau_sp": 0,
        },
        {
            "ma_sp": "SP005",
            "ma_dvt": "GOI",
            "vat": 0,  # KCT: no VAT on the line
            "so_luong": 3,
            "ma_kho_xuat": "KHO-HCM",
            "don_gia": 15000,
            "chiet_khau_sp": 0,
        },
    ],
    "san_pham_km": [
        {
            "ma_sp_km": "SP002",
            "ma_dvt_km": "CHAI",
            "so_luong_km": 2,
            "ma_kho_xuat_km": "KHO-HCM",
            "ghi_chu_km": "Mua 24 tặng 2",
        },
        {
            "ma_sp_km": "SP099",
            "ma_dvt_km": "CAI",
            "so_luong_km": 1,
            "ma_kho_xuat_km": "KHO-HCM",
            "ghi_chu_km": "",
        },
    ],
}


def test_bill_body():
    body = callbacks.build_bill(_bill_info())
    assert body == EXPECTED_BILL
    # Exactly the fields Mobiwork's Bill is known to take, in that order.
    assert list(body) == [
        "trang_thai",
        "ma_phieu",
        "ma_phieu_dat",
        "ma_kh",
        "sdt",
        "dia_chi",
        "ngay_dat",
        "ngay_ban",
        "tong_tien_hang",
        "tong_tien_vat",
        "tong_ck_sp",
        "ck_don_hang",
        "phai_thanh_toan",
        "san_pham",
        "san_pham_km",
    ]
    amounts = [body[k] for k in ("tong_tien_hang", "tong_ck_sp", "phai_thanh_toan")]
    amounts += [line["don_gia"] for line in body["san_pham"]]
    assert all(type(amount) is int for amount in amounts)


def test_bill_from_plain_mappings():
    info = dataclasses.asdict(_bill_info())
    assert isinstance(info["lines"][0], dict)
    assert callbacks.build_bill(info) == EXPECTED_BILL


def test_bill_amount_to_pay_given_is_sent_as_is():
    body = callbacks.build_bill(_bill_info(amount_total=2388501))
    assert body["phai_thanh_toan"] == 2388501


def test_bill_dates_are_vietnam_dates():
    body = callbacks.build_bill(
        _bill_info(
            order_date=datetime(2026, 11, 22, 17, 0),  # naive: UTC, as in Odoo
            sale_date=datetime(2026, 11, 22, 16, 59, 59, tzinfo=timezone.utc),
        )
    )
    assert (body["ngay_dat"], body["ngay_ban"]) == ("23/11/2026", "22/11/2026")


def test_bill_rounds_odoo_amounts_to_whole_dong():
    line = callbacks.ProductLine("SP011", 2.5, 64000.4, "KG", 5, 0.5, "KHO-HUE")
    body = callbacks.build_bill(
        _bill_info(lines=[line], free_lines=[], amount_tax=7999.5, order_discount=0)
    )
    assert body["san_pham"][0]["don_gia"] == 64000
    assert body["san_pham"][0]["chiet_khau_sp"] == 1
    assert body["san_pham"][0]["so_luong"] == 2.5
    assert body["tong_tien_hang"] == 160000
    assert body["tong_tien_vat"] == 8000
    assert body["phai_thanh_toan"] == 160000 - 1 + 8000


def test_bill_text_is_nfc():
    body = callbacks.build_bill(
        _bill_info(address="12 Le\u0302\u0323 Lợi", status_label="  Đa\u0303 giao ")
    )
    assert body["dia_chi"] == "12 Lệ Lợi"
    assert body["trang_thai"] == "Đã giao"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"order_number": ""}, "The Mobiwork order number (ma_phieu_dat) is required"),
        ({"customer_code": " "}, "The customer code (ma_kh) is required"),
        ({"bill_number": None}, "The bill number (ma_phieu) is required"),
        ({"lines": [], "free_lines": []}, "The bill has no line"),
        (
            {"lines": [callbacks.ProductLine("SP001", 0, 125000)]},
            "The quantity of line 1 (SP001) must be greater than 0",
        ),
        (
            {
                "lines": [
                    callbacks.ProductLine("SP001", 1, 125000, discount_amount=125001)
                ]
            },
            "The discount of line 1 (SP001) is more than its amount (125000)",
        ),
        (
            {"lines": [callbacks.ProductLine("SP001", 1, -5)]},
            "The unit price of line 1 (SP001) must be 0 or more",
        ),
        (
            {"lines": [callbacks.ProductLine("", 1, 5)]},
            "The product code (ma_sp) of line 1 is required",
        ),
        (
            {"lines": [callbacks.ProductLine("SP001", 1, 5, vat_rate=150)]},
            "The VAT of line 1 must be between 0 and 100",
        ),
        (
            {"lines": [callbacks.ProductLine("SP001", 1, 5, vat_rate="ten")]},
            "The VAT of line 1 must be a VAT rate such as 10, 8, 5, 0 or KCT",
        ),
        (
            {"free_lines": [callbacks.FreeLine("SP002", "")]},
            "The quantity of free good 1 (SP002) must be a number",
        ),
        (
            {"order_discount": 3000000},
            "The discounts are more than the bill's amount",
        ),
        ({"amount_tax": None}, "The VAT amount (tong_tien_vat) must be an amount"),
    ],
)
def test_bill_refuses_what_mobiwork_should_not_receive(changes, message):
    with pytest.raises(ValueError) as caught:
        callbacks.build_bill(_bill_info(**changes))
    assert str(caught.value).startswith(message)


def test_bill_refuses_unknown_keys():
    info = dataclasses.asdict(_bill_info())
    info["lines"][0]["colour"] = "red"
    with pytest.raises(TypeError, match="lines\\[0\\] has unknown keys: colour"):
        callbacks.build_bill(info)
    with pytest.raises(TypeError):
        callbacks.build_bill(["not", "a", "bill"])


@pytest.mark.parametrize(
    ("rate", "vat"),
    [(None, 0), ("", 0), ("10%", 10), ("8.0", 8), (8.5, 8.5), ("kct", 0)],
)
def test_bill_vat_percentages(rate, vat):
    line = callbacks.ProductLine("SP001", 1, 1000, vat_rate=rate)
    body = callbacks.build_bill(_bill_info(lines=[line], order_discount=0))
    assert body["san_pham"][0]["vat"] == vat


def test_bill_bytes_keep_vietnamese_readable():
    data = callbacks.dumps(callbacks.build_bill(_bill_info()))
    assert "Đã bán hàng".encode() in data
    assert json.loads(data) == EXPECTED_BILL


# --- the goods issue ---------------------------------------------------------


def test_goods_issue_body():
    info = callbacks.GoodsIssueInfo(
        order_number="DH-2026-000123",
        warehouse_code="KHO-HCM",
        issue_date=datetime(2026, 11, 22, 18, 30, tzinfo=timezone.utc),
        lines=[
            callbacks.ProductLine("SP001", 10, 125000, "THUNG", 10, 25000),
            callbacks.ProductLine("SP005", 3, 15000, "GOI", "KCT"),
            callbacks.ProductLine("SP002", 2, 0, "CHAI", 8),  # a free good
        ],
        order_discount=50000,
    )
    assert callbacks.build_goods_issue(info) == {
        "ma_don_lien_quan": "DH-2026-000123",
        "ckdh": 50000,
        "kho_xuat": "KHO-HCM",
        "ngay_xuat": "2026-11-23",
        "data_san_pham": [
            {
                "ma_sp": "SP001",
                "ma_dvt": "THUNG",
                "so_luong": 10,
                "don_gia": 125000,
                "chiet_khau_sp": 25000,
                "vat": 10,
            },
            {
                "ma_sp": "SP005",
                "ma_dvt": "GOI",
                "so_luong": 3,
                "don_gia": 15000,
                "chiet_khau_sp": 0,
                "vat": 0,
            },
            {
                "ma_sp": "SP002",
                "ma_dvt": "CHAI",
                "so_luong": 2,
                "don_gia": 0,
                "chiet_khau_sp": 0,
                "vat": 8,
            },
        ],
    }
    assert callbacks.build_goods_issue(dataclasses.asdict(info)) == (
        callbacks.build_goods_issue(info)
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"warehouse_code": ""}, "The warehouse code (kho_xuat) is required"),
        ({"order_number": ""}, "The Mobiwork order number (ma_don_lien_quan)"),
        ({"lines": []}, "The goods issue has no line"),
        ({"order_discount": -1}, "The order discount (ckdh) must be 0 or more"),
    ],
)
def test_goods_issue_refusals(changes, message):
    info = {
        "order_number": "DH-1",
        "warehouse_code": "KHO-HCM",
        "issue_date": date(2026, 11, 23),
        "lines": [{"product_code": "SP001", "quantity": 1, "price_unit": 1000}],
    }
    info.update(changes)
    with pytest.raises(ValueError) as caught:
        callbacks.build_goods_issue(info)
    assert str(caught.value).startswith(message)


# --- Mobiwork's answers ------------------------------------------------------


@pytest.mark.parametrize(
    ("status_code", "body"),
    [
        (200, b'{"status": true}'),
        (200, '{"status": 1, "message": "Th\u00e0nh c\u00f4ng"}'),
        (201, {"status": True, "data": {"ma_phieu": "INV/1"}}),
    ],
)
def test_successes(status_code, body):
    assert callbacks.read_error(status_code, body) is None


ERRORS = {
    "successful": False,
    "errors": [
        {"message": "Khách hàng KH9 không tồn tại"},
        {"message": "Sản phẩm\nSP009   không tồn tại"},
    ],
}


@pytest.mark.parametrize(
    ("status_code", "body", "message"),
    [
        (
            200,
            json.dumps(ERRORS).encode(),
            "Mobiwork refused the request: Khách hàng KH9 không tồn tại; "
            "Sản phẩm SP009 không tồn tại",
        ),
        (
            400,
            ERRORS,
            "Mobiwork refused the request (HTTP 400): Khách hàng KH9 không tồn tại; "
            "Sản phẩm SP009 không tồn tại",
        ),
        (
            200,
            {"status": True, "successful": False, "errors": ["Trùng mã phiếu"]},
            "Mobiwork refused the request: Trùng mã phiếu",
        ),
        (
            401,
            {"status": False, "message": "Token không hợp lệ"},
            "Mobiwork refused the request (HTTP 401): Token không hợp lệ",
        ),
        (
            200,
            {"status": False},
            "Mobiwork answered HTTP 200 without success and without an error message.",
        ),
        (
            500,
            b'{"status": true}',
            "Mobiwork answered HTTP 500 without success and without an error message.",
        ),
        (
            502,
            b"<html>\n<h1>502 Bad Gateway</h1>\n</html>",
            "Mobiwork answered HTTP 502 with a body that is not JSON: "
            "<html> <h1>502 Bad Gateway</h1> </html>",
        ),
        (503, b"", "Mobiwork answered HTTP 503 without success"),
    ],
)
def test_errors_are_one_readable_line(status_code, body, message):
    error = callbacks.read_error(status_code, body)
    assert error.startswith(message)
    assert "\n" not in error


def test_long_errors_are_cut():
    body = {"successful": False, "errors": [{"message": "x" * 2000}]}
    error = callbacks.read_error(400, body)
    assert len(error) == callbacks.MAX_ERROR_LENGTH
    assert error.endswith("…")
