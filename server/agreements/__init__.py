"""Agreements and their signing ceremonies: the register, the live signing, the certificate."""
