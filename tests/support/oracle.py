"""A real Erlang term_to_binary/binary_to_term behind a line protocol."""

import os
import select
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name('etf_oracle.escript')


class EtfOracle:
    def __init__(self):
        self.proc = subprocess.Popen(
            ['escript', str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1)

    def _ask(self, line, timeout=20):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        ready, dummy, dummy = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError('the Erlang oracle did not answer %r' % line)
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError('the Erlang oracle died on %r: %s' % (line, self.proc.stderr.read()))
        return answer.rstrip('\n')

    def term_to_binary(self, expr, opts='[]'):
        """Evaluate an Erlang expression; return (index, bytes) from term_to_binary/2."""
        index, hexed = self._ask('E {%s, %s}' % (expr, opts)).split(' ', 1)
        return int(index), bytes.fromhex(hexed)

    def equals(self, index, data):
        """Does binary_to_term(data) =:= the term stored at index?"""
        return self._ask('C %d %s' % (index, data.hex())) == 'true'

    def reencode(self, data):
        """term_to_binary(binary_to_term(data)), or None when Erlang refuses data."""
        answer = self._ask('D %s' % data.hex())
        return bytes.fromhex(answer[3:]) if answer.startswith('ok ') else None

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, 9)
            self.proc.wait()
