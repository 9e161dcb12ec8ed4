#!/usr/bin/env bash
# Install Kho and run it on its embedded defaults (local folder store, embedded index,
# in-process tasks) with demo data, then show what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/install.sh
export KHO_DATA_DIR="${KHO_DATA_DIR:-$PWD/kho-data}"
.venv/bin/kho demo
echo
# Log in as the demo văn thư (every demo account's password is Kho@demo2026).
echo "Kho@demo2026" | .venv/bin/kho login khuedt.ubnd --password-stdin
echo
.venv/bin/kho register list --series den
echo
.venv/bin/kho search "quyet dinh ban hanh quy che" --page-size 5
echo
echo "Kho đang chạy ở chế độ nhúng, dữ liệu tại $KHO_DATA_DIR. Thử: .venv/bin/kho --help"
echo "Tài khoản mẫu: khuedt.ubnd (văn thư), hunglq.ubnd (lãnh đạo), chinhpm.ubnd (chuyên viên),"
echo "haht.ubnd (lưu trữ), kiemlv.ubnd (kiểm toán), vienqt.ubnd (quản trị); mật khẩu Kho@demo2026."
