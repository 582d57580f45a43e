"""Certificates (证书): issued when a report's roster is accepted, revoked by
themselves when what they certify is undone, verified by anyone by their code.
docs/domain.md#证书.

- ``numbering``: numbers (the committee's format, a gap-free serial per year)
  and verification codes.
- ``issuing``: issue and revoke, as receivers of the workflow engine's hooks
  (connected by ``receivers``), and the committee's revocation by hand.
- ``settings``: the committee's number format, title line and seal images.
"""
