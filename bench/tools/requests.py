"""Sends exactly N requests over one keep-alive connection (for bench/callgrind.sh).

usage: requests.py PORT N METHOD PATH [BODY] [HEADER: VALUE ...]
Exits 1 if any answer is not 2xx, so a profile of error responses is never mistaken for one
of the scenario.
"""

import http.client
import sys


def main() -> int:
    port, count, method, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    body = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
    headers = {"content-type": "application/json"} if body else {}
    for header in sys.argv[6:]:
        name, value = header.split(":", 1)
        headers[name] = value.strip()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    failed = 0
    for _ in range(count):
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if not 200 <= response.status < 300:
            failed += 1
    if failed:
        print(f"{failed} of {count} answers were not 2xx", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
