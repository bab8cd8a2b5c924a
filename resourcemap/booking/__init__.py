"""Booking: slots from opening hours and rules, seats taken without overbooking, changes, the
waitlist, staff's view of bookings, and the messages residents get (``desk`` is the entry)."""
