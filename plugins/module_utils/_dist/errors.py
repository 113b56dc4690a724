# -*- coding: utf-8 -*-
# Copyright (c) beamsec.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception per outcome of a probe.

Every failure the client can meet is one of these, and each carries the
``outcome`` word that modules report (see DESIGN.md, "Outcome vocabulary").
Modules catch :class:`DistError` only; anything else is a bug.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ACCEPTED = 'accepted'

OUTCOMES = (
    ACCEPTED, 'rejected', 'not_allowed', 'refused', 'timeout', 'unreachable',
    'no_epmd', 'not_registered', 'tls_required', 'tls_rejected', 'protocol_error',
    'wrong_node', 'accepts_any_cookie', 'rpc_failed',
)
# a peer that may not reach a node sees one of these (verify_report's "blocked")
UNREACHABLE = ('timeout', 'refused', 'no_epmd', 'unreachable')


class DistError(Exception):
    """Base of every error the client raises; ``outcome`` names it."""

    outcome = 'protocol_error'

    def __init__(self, message, stage=None):
        super(DistError, self).__init__(message)
        self.stage = stage

    def again(self):
        """A copy, for each probe that raises the same error (each with its own traceback)."""
        return type(self)(str(self), self.stage)


class DecodeError(DistError):
    """Bytes that are not a valid External Term Format term."""


class EncodeError(DistError):
    """A Python value that has no External Term Format representation."""


class ProtocolError(DistError):
    """The peer broke the protocol: bad framing, bad message, bad digest."""


class Closed(ProtocolError):
    """The peer closed the connection cleanly, between two frames."""


class Truncated(ProtocolError):
    """The peer closed the connection in the middle of a frame."""


class Rejected(DistError):
    """The peer closed the connection after our challenge_reply: wrong cookie."""

    outcome = 'rejected'


class NotAllowed(DistError):
    """The peer answered send_name with status ``not_allowed``."""

    outcome = 'not_allowed'


class Refused(DistError):
    """TCP connection refused: nothing listens there."""

    outcome = 'refused'


class Timeout(DistError):
    """No complete answer before the deadline."""

    outcome = 'timeout'


class ConnectTimeout(Timeout):
    """The TCP connect itself went unanswered: nothing accepted it (a firewall that drops)."""


class WrongNode(DistError):
    """A node answered under another name than the one asked for (OTP refuses such a connection)."""

    outcome = 'wrong_node'


class AcceptsAnyCookie(DistError):
    """The node acknowledged a challenge_reply it could not check: its digest is not of our cookie."""

    outcome = 'accepts_any_cookie'


class Unreachable(DistError):
    """No route, unknown host name, or network down."""

    outcome = 'unreachable'


class NoSuchHost(Unreachable):
    """The host name does not resolve: nothing was tried."""


class NoEpmd(DistError):
    """EPMD could not be reached (refused, reset or unreachable)."""

    outcome = 'no_epmd'


class NotRegistered(DistError):
    """EPMD answered but has no node of that name."""

    outcome = 'not_registered'


class TlsRequired(DistError):
    """A plaintext handshake met a TLS listener."""

    outcome = 'tls_required'


class TlsRejected(DistError):
    """The TLS handshake failed: a certificate was refused by either side."""

    outcome = 'tls_rejected'
