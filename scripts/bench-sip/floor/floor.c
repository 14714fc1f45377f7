/* floor: the syscall floor of scripts/bench-sip.sh's media step, the
 * socket work of N calls and nothing else. N UDP sockets on loopback, in
 * pairs (each sends to its partner, so each also receives a packet every
 * 20 ms, as a call does from its far end); every 20 ms, on an absolute
 * schedule, one 172-byte packet (12 bytes of RTP header, 160 of A-law)
 * goes out of each socket by sendto, then one epoll_wait with no timeout
 * finds the sockets with input and each is read until EAGAIN. No codec,
 * no jitter buffer, no timers per call. It runs for SECONDS and prints
 * nothing: the bench reads its CPU time from /proc.
 *
 *   floor N SECONDS [FIRST_PORT]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: floor N SECONDS [FIRST_PORT]\n");
		return 2;
	}
	int n = atoi(argv[1]) & ~1, secs = atoi(argv[2]);
	int first = argc > 3 ? atoi(argv[3]) : 40000;
	int *fd = calloc(n, sizeof *fd);
	struct sockaddr_in *addr = calloc(n, sizeof *addr);
	int ep = epoll_create1(0);
	for (int i = 0; i < n; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		addr[i].sin_family = AF_INET;
		addr[i].sin_port = htons(first + i);
		addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd[i] < 0 || bind(fd[i], (struct sockaddr *)&addr[i], sizeof addr[i]) < 0) {
			perror("floor: socket");
			return 1;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &ev);
	}
	unsigned char pkt[172] = {0x80, 8}, buf[1500];
	struct epoll_event *evs = calloc(n, sizeof *evs);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long tick = 0; tick < (long)secs * 50; tick++) {
		next.tv_nsec += 20000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		for (int i = 0; i < n; i++) {
			pkt[3] = (unsigned char)tick; /* the sequence number's low octet */
			sendto(fd[i], pkt, sizeof pkt, 0, (struct sockaddr *)&addr[i ^ 1], sizeof addr[i]);
		}
		int ready = epoll_wait(ep, evs, n, 0);
		for (int k = 0; k < ready; k++) {
			while (recv(fd[evs[k].data.u32], buf, sizeof buf, 0) > 0) {
			}
		}
	}
	return 0;
}
