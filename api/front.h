/*
 * front.h - the libevent set-up vigil-api and its benchmark baseline
 * share (front.c).
 */
#ifndef VIGIL_API_FRONT_H
#define VIGIL_API_FRONT_H

struct bufferevent;
struct event_base;

#define API_MAX_SINGLE_WRITE	(4 * 1024 * 1024)

struct event_base	*api_event_base(void);
struct bufferevent	*api_conn_bev(struct event_base *, void *);

#endif /* VIGIL_API_FRONT_H */
