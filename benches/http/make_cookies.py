"""benches/http/make_cookies.py: creates N sessions on a server and prints their cookies.

    python3 make_cookies.py <port> <n>  >  cookies.txt

Sends `GET /incr` without a cookie N times over one keep-alive connection and prints the
`session=<value>` of each answer's Set-Cookie, one a line.
"""
import http.client
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    conn.request("GET", "/incr")
    res = conn.getresponse()
    res.read()
    cookie = res.getheader("set-cookie")
    if not cookie:
        sys.exit(f"no Set-Cookie from port {port}")
    print(cookie.split(";", 1)[0])
