/*
 * bindshim: an LD_PRELOAD library that turns a listening socket's wildcard bind (0.0.0.0 or ::)
 * into a bind to STREAMSTACK_BIND_HOST (default 127.0.0.1).
 *
 * Why: some embedded services hard-code "all interfaces" for sockets that have no host setting
 * (Pinot 0.11's netty query server and gRPC server, Pinot's embedded ZooKeeper, Airflow 3's log
 * servers). Every other socket is configured to the bind host directly; this is the backstop
 * that keeps the stack loopback-only by default. Only TCP binds to the wildcard address are
 * changed; binds to a specific address, UDP and Unix sockets pass through untouched.
 * STREAMSTACK_BIND_HOST=0.0.0.0 (or ::) turns the rewrite off.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

static int is_stream(int fd) {
    int type = 0;
    socklen_t len = sizeof(type);
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

static int v6only(int fd) {
    int on = 0;
    socklen_t len = sizeof(on);
    return getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) == 0 && on;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static bind_fn real_bind;
    if (!real_bind) real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    const char *host = getenv("STREAMSTACK_BIND_HOST");
    if (!host || !*host) host = "127.0.0.1";
    struct in_addr v4;
    struct in6_addr v6;
    int host_v4 = inet_pton(AF_INET, host, &v4) == 1;
    int host_v6 = !host_v4 && inet_pton(AF_INET6, host, &v6) == 1;
    if (!addr || !(host_v4 || host_v6) || !is_stream(fd)) return real_bind(fd, addr, len);
    if (host_v4 && v4.s_addr == htonl(INADDR_ANY)) return real_bind(fd, addr, len);
    if (host_v6 && IN6_IS_ADDR_UNSPECIFIED(&v6)) return real_bind(fd, addr, len);

    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in = *(const struct sockaddr_in *)addr;
        if (in.sin_addr.s_addr == htonl(INADDR_ANY) && host_v4) {
            in.sin_addr = v4;
            return real_bind(fd, (const struct sockaddr *)&in, sizeof(in));
        }
    } else if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6 = *(const struct sockaddr_in6 *)addr;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) {
            if (host_v6) {
                in6.sin6_addr = v6;
            } else if (v6only(fd)) { /* an IPv4 bind host, an IPv6-only socket: loopback ::1 */
                in6.sin6_addr = in6addr_loopback;
            } else { /* an IPv4 bind host on a dual-stack socket: its IPv4-mapped form */
                memset(&in6.sin6_addr, 0, sizeof(in6.sin6_addr));
                in6.sin6_addr.s6_addr[10] = 0xff;
                in6.sin6_addr.s6_addr[11] = 0xff;
                memcpy(&in6.sin6_addr.s6_addr[12], &v4, 4);
            }
            return real_bind(fd, (const struct sockaddr *)&in6, sizeof(in6));
        }
    }
    return real_bind(fd, addr, len);
}
