"""Path parameter types of the routing table: a wrong shape is "not found", never an error."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    """Database ids: 1 to 9 digits, so a 30-digit id is "not found", never an overflow."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


class AreaCodeConvertor(Convertor[str]):
    """Administrative area codes: up to 12 letters or digits (statistical codes are digits)."""

    regex = "[0-9A-Za-z]{1,12}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class BookingCodeConvertor(Convertor[str]):
    """Booking and waitlist codes: 8 digits."""

    regex = "[0-9]{8}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


def register() -> None:
    register_url_convertor("id", IdConvertor())
    register_url_convertor("bookingcode", BookingCodeConvertor())
    register_url_convertor("areacode", AreaCodeConvertor())
