/* volume.h — the volume binder: PersistentVolumes for PersistentVolumeClaims, from stsd's two
 * provisioners (../shared/DESIGN.md, Identity: volumes; issue 6):
 * - "stsd.io/local": the volume lives on one node. The PV is made when the claim's first pod has
 *   been scheduled (WaitForFirstConsumer), with required node affinity to that node
 *   (kubernetes.io/hostname In [node]) and spec.local.path = <parameters.path, default
 *   /var/lib/stsd/volumes>/<pv name>; later pods of the claim go back to that node.
 * - "stsd.io/shared-path": the volume lives under a path every node mounts (parameters.path,
 *   default /var/lib/stsd/shared); spec.hostPath.path = <path>/<pv name>, no node affinity.
 * Pure (plan.h). */
#ifndef STSD_CONTROLLER_VOLUME_H
#define STSD_CONTROLLER_VOLUME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define CTL_PROVISIONER_LOCAL  "stsd.io/local"
#define CTL_PROVISIONER_SHARED "stsd.io/shared-path"

/* The class a claim uses: the one spec.storageClassName names, or, when the claim names none (the
 * field absent; "" means no class), the class annotated
 * storageclass.kubernetes.io/is-default-class "true" (the newest by creationTimestamp, then name,
 * when several are, as upstream's GetDefaultClass). NULL when none. Borrowed from classes. */
const json_t *ctl_volume_class(const json_t *pvc, const json_t *const *classes, size_t n_classes);

/* Bind pvc (unbound: no spec.volumeName) for a pod placed on node (NULL before scheduling, fine
 * for shared classes): CREATE the PV "pvc-<pvc uid>" (capacity = the request, accessModes,
 * volumeMode, storageClassName, persistentVolumeReclaimPolicy from the class (default Delete),
 * claimRef {kind, namespace, name, uid, apiVersion}, status.phase Bound, the annotation
 * pv.kubernetes.io/provisioned-by) and UPDATE the claim (spec.volumeName, status.phase Bound,
 * status.capacity, status.accessModes, annotations pv.kubernetes.io/bind-completed "yes" and
 * volume.kubernetes.io/selected-node for local classes), expect_rv = the claim's rv. Returns 0,
 * STSD_NOTFOUND (no class, or a provisioner that is not stsd's: the claim stays Pending),
 * STSD_INVALID (local class without node, or a claim without uid/name) or STSD_NOMEM. */
int ctl_volume_bind(const json_t *pvc, const json_t *storage_class, const char *node, int64_t now,
                    struct ctl_plan *plan);

/* The two halves of ctl_volume_bind, for a claim the executor is about to create in the same
 * command as its pod (it has a uid already, no resourceVersion): the new PV (new reference, or
 * NULL with the same errors in *err), and the claim turned bound in place (spec.volumeName,
 * status, annotations as above). */
json_t *ctl_volume_new_pv(const json_t *pvc, const json_t *storage_class, const char *node,
                          int64_t now, int *err);
int ctl_volume_mark_bound(json_t *pvc, const json_t *pv, const json_t *storage_class,
                          const char *node);

/* The node a bound claim's volume pins its pods to (the hostname In value of pv's required node
 * affinity), or NULL for volumes any node reaches. Borrowed from pv. */
const char *ctl_volume_pinned_node(const json_t *pv);

/* A PV whose claim is gone (claim NULL, or a claim whose uid is not the claimRef's): reclaim
 * policy Delete deletes it (CTL_DELETE), Retain makes it Released (UPDATE_STATUS phase Released).
 * A PV bound to a live claim, or already Released, gets nothing. 0 or STSD_NOMEM. */
int ctl_volume_reclaim(const json_t *pv, const json_t *claim, struct ctl_plan *plan);

#endif
