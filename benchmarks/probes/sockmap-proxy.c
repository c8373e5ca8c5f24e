// A measurement probe, not part of galera-lb: a TCP proxy whose bytes never reach user space,
// to find out what forwarding inside the kernel would gain (docs/kernel-forwarding.md).
// Each accepted client socket and its server socket go into a SOCKHASH; an sk_skb verdict
// program redirects every skb either socket receives to the other socket's egress.
// Round robin over servers on 127.0.0.1, ports FIRST_PORT .. FIRST_PORT+COUNT-1; no health
// checks, no limits, no memory bound (that is the finding). Needs root (CAP_BPF, CAP_NET_ADMIN).
//
//   gcc -O2 -o /tmp/sockmap-proxy benchmarks/probes/sockmap-proxy.c
//   sudo /tmp/sockmap-proxy 3437 23306 3
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <stddef.h>

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof(*a)); }

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int mapfd;
static uint64_t key_of(int fd) {
    struct sockaddr_in l, r; socklen_t n = sizeof l;
    getsockname(fd, (struct sockaddr *)&l, &n); n = sizeof r;
    getpeername(fd, (struct sockaddr *)&r, &n);
    // as the program sees them: local_port host order, remote_port = raw be16 << 16
    return ((uint64_t)ntohs(l.sin_port) << 32) | ((uint32_t)r.sin_port << 16);
}
static void put(uint64_t key, int fd) {
    union bpf_attr a; memset(&a, 0, sizeof a);
    uint64_t v = fd;
    a.map_fd = mapfd; a.key = (uint64_t)(uintptr_t)&key; a.value = (uint64_t)(uintptr_t)&v; a.flags = BPF_ANY;
    if (bpf(BPF_MAP_UPDATE_ELEM, &a)) { perror("update"); exit(1); }
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s LISTEN_PORT FIRST_SERVER_PORT SERVER_COUNT\n", argv[0]); return 2; }
    int port = atoi(argv[1]), first = atoi(argv[2]), count = atoi(argv[3]);
    union bpf_attr a; memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_SOCKHASH; a.key_size = 8; a.value_size = 8; a.max_entries = 65536;
    mapfd = bpf(BPF_MAP_CREATE, &a); if (mapfd < 0) { perror("map"); return 1; }
    struct bpf_insn prog[] = {
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),                                   // r6 = ctx
        INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, offsetof(struct __sk_buff, local_port), 0),
        INSN(BPF_LDX | BPF_W | BPF_MEM, 3, 1, offsetof(struct __sk_buff, remote_port), 0),
        INSN(BPF_ALU64 | BPF_LSH | BPF_K, 2, 0, 0, 32),
        INSN(BPF_ALU64 | BPF_OR | BPF_X, 2, 3, 0, 0),
        INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 2, -8, 0),                                  // *(fp-8) = key
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),                                   // r1 = ctx
        INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, 0), INSN(0, 0, 0, 0, 0), // r2 = map
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
        INSN(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8),                                  // r3 = &key
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),                                   // egress
        INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_hash),
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    prog[7].imm = mapfd;
    char log[65536]; log[0] = 0;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SK_SKB; a.insns = (uint64_t)(uintptr_t)prog;
    a.insn_cnt = sizeof prog / sizeof prog[0]; a.license = (uint64_t)(uintptr_t)"GPL";
    a.log_buf = (uint64_t)(uintptr_t)log; a.log_size = sizeof log; a.log_level = 1;
    int progfd = bpf(BPF_PROG_LOAD, &a);
    if (progfd < 0) { perror("load"); fprintf(stderr, "%s\n", log); return 1; }
    memset(&a, 0, sizeof a);
    a.target_fd = mapfd; a.attach_bpf_fd = progfd; a.attach_type = BPF_SK_SKB_VERDICT;
    if (bpf(BPF_PROG_ATTACH, &a)) { perror("attach"); return 1; }

    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 1024)) { perror("listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)ls << 32 | ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    int next = 0;
    fprintf(stderr, "sockmap proxy on 127.0.0.1:%d to ports %d..%d\n", port, first, first + count - 1);
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = (int)evs[i].data.u64, peer = (int)(evs[i].data.u64 >> 32);
            if (fd == ls) {
                int c = accept(ls, NULL, NULL);
                int s = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(first + next++ % count) };
                inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
                if (connect(s, (struct sockaddr *)&b, sizeof b)) { perror("connect"); close(c); close(s); continue; }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                put(key_of(s), c);   // c joins: the client says nothing before the greeting
                put(key_of(c), s);   // s joins, its peer already known
                // whatever arrived before the sockets were in the map is in their queues
                char buf[16384];
                for (int k = 0; k < 2; k++) {
                    int from = k ? c : s, to = k ? s : c;
                    ssize_t r = recv(from, buf, sizeof buf, MSG_DONTWAIT);
                    if (r > 0) send(to, buf, r, 0);
                }
                struct epoll_event e1 = { .events = EPOLLRDHUP, .data.u64 = (uint64_t)s << 32 | c };
                struct epoll_event e2 = { .events = EPOLLRDHUP, .data.u64 = (uint64_t)c << 32 | s };
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &e1);
                epoll_ctl(ep, EPOLL_CTL_ADD, s, &e2);
            } else {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                epoll_ctl(ep, EPOLL_CTL_DEL, peer, NULL);
                close(fd); close(peer);
            }
        }
    }
}
