"""Referral between services, the green channel (#23): a service's staff hand a resident
on to another service with their consent; the receiving service accepts and books (into
referral seats no public booking can take) or declines; the first service sees the status
move and nothing about the visit. Use cases in ``flow``, seats in ``seats``, what staff
and residents see in ``views``, planners' counts in ``counts``."""
