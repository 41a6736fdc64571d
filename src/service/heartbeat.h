/*
 * heartbeat.h - this node's heartbeat in the database and the count of
 * live nodes, for per-key rate limits (API.md "Per-key limits and usage"):
 * with several nodes on one PostgreSQL database each node enforces
 * ceil(limit / live nodes), live nodes being those whose heartbeat row is
 * at most KS_NODE_LIVE_SECONDS old. A thread writes the row every
 * KS_HEARTBEAT_SECONDS and sets the index's node count
 * (ks_index_set_nodes); a clean stop removes the row. While the database
 * cannot be reached the last count stays. With SQLite (one process owns
 * the file) there is no thread and the count is 1.
 */
#ifndef KS_SERVICE_HEARTBEAT_H
#define KS_SERVICE_HEARTBEAT_H

#include "service/service.h"

#define KS_HEARTBEAT_SECONDS 3
#define KS_NODE_LIVE_SECONDS 10

/* Starts the heartbeat thread (after one heartbeat written at once, so the
 * count is right from the first verify); KS_OK also when there is nothing
 * to do (no change feed: a single node). */
int ks_heartbeat_start(ks_service *svc);
/* Stops it and removes this node's row (best effort). */
void ks_heartbeat_stop(ks_service *svc);
/* Live nodes as last counted (1 without a heartbeat). */
int ks_heartbeat_nodes(const ks_service *svc);

#endif
