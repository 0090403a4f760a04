"""Vietnamese name parts for plausible demo and benchmark delegates."""
from __future__ import annotations

import random

FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đào", "Đinh", "Mai", "Trịnh",
)
MIDDLE_NAMES_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành", "Ngọc", "Xuân")
MIDDLE_NAMES_FEMALE = ("Thị", "Thu", "Thanh", "Ngọc", "Hồng", "Minh", "Kim", "Thúy")
GIVEN_NAMES_MALE = (
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khánh", "Long", "Nam",
    "Phong", "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Hòa", "Lâm", "Tùng", "Vinh",
)
GIVEN_NAMES_FEMALE = (
    "Anh", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Nhung",
    "Phương", "Thảo", "Trang", "Yến", "Huyền", "Loan", "Oanh", "Vân", "Ánh", "Giang",
)


def random_full_name(rng: random.Random) -> str:
    family = rng.choice(FAMILY_NAMES)
    if rng.random() < 0.5:
        return f"{family} {rng.choice(MIDDLE_NAMES_MALE)} {rng.choice(GIVEN_NAMES_MALE)}"
    return f"{family} {rng.choice(MIDDLE_NAMES_FEMALE)} {rng.choice(GIVEN_NAMES_FEMALE)}"


def random_mobile(rng: random.Random) -> str:
    """A ten-digit Vietnamese mobile number."""
    return rng.choice(("09", "03", "08")) + "".join(str(rng.randrange(10)) for _ in range(8))
