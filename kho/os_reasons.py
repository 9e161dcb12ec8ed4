"""Why the operating system refused a file operation, said in Vietnamese.

``OSError.strerror`` is the C library's English ("No such file or directory", "Permission
denied"); a message a person reads says the reason with :func:`os_reason`, and the machine
details keep the errno's name (:func:`errno_name`, "ENOENT"). Pure; imports only ``errno``
(the CLI's start-up imports it).
"""

from __future__ import annotations

import errno

_PHRASES: dict[int, str] = {
    errno.ENOENT: "không tồn tại",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không được phép thực hiện",
    errno.EISDIR: "đây là một thư mục, không phải tệp",
    errno.ENOTDIR: "một phần của đường dẫn không phải thư mục",
    errno.ENAMETOOLONG: "tên tệp quá dài",
    errno.ELOOP: "liên kết tượng trưng lặp vòng",
    errno.EIO: "lỗi vào/ra của ổ đĩa",
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EDQUOT: "đã hết hạn mức dung lượng",
    errno.EROFS: "hệ thống tệp chỉ cho đọc",
    errno.EEXIST: "đã tồn tại",
    errno.ENOTEMPTY: "thư mục không rỗng",
    errno.EXDEV: "không chuyển được giữa hai hệ thống tệp",
    errno.EMFILE: "đang mở quá nhiều tệp",
    errno.ENFILE: "hệ thống đang mở quá nhiều tệp",
    errno.EBUSY: "đang được dùng",
    errno.ETXTBSY: "tệp đang được chạy",
    errno.ENXIO: "thiết bị không tồn tại",
    errno.ENODEV: "thiết bị không tồn tại",
    errno.EINVAL: "tham số không hợp lệ",
    errno.EAGAIN: "tạm thời chưa dùng được",
    errno.ETIMEDOUT: "quá thời gian chờ",
    errno.ECONNREFUSED: "kết nối bị từ chối",
    errno.ESTALE: "tệp trên ổ mạng không còn hợp lệ",
    errno.EFBIG: "tệp quá lớn",
    errno.ENOMEM: "không đủ bộ nhớ",
    errno.EBADF: "tệp đã đóng",
    errno.EPIPE: "đầu kia đã đóng",
}


def errno_name(exc: BaseException) -> str | None:
    """The symbolic name of ``exc``'s errno ("ENOENT"), for machine details; None without one."""
    number = getattr(exc, "errno", None)
    if not isinstance(number, int):
        return None
    return errno.errorcode.get(number, f"E{number}")


def os_reason(exc: BaseException) -> str:
    """The Vietnamese phrase for why the system refused (lower case, no full stop): "không
    tồn tại" for ENOENT; an errno without a phrase is "lỗi hệ thống (ENAME)", an error without
    one "lỗi hệ thống"."""
    number = getattr(exc, "errno", None)
    if isinstance(number, int):
        return _PHRASES.get(number, f"lỗi hệ thống ({errno_name(exc)})")
    return "lỗi hệ thống"
