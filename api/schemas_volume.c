/* schemas_volume.c — core/v1 Volume with every volume source of k8s.io/api v0.32 (the in-tree
 * vendor sources too, so that Strict validation catches typos in any of them). */
#include "schemas_def.h"

#define LOCAL_REF (&api_schema_local_object_reference)

OBJECT(key_to_path, F("key", STR), F("path", STR), F("mode", INT));
const struct api_schema api_schema_key_to_paths = {SCH_ARRAY, NULL, &key_to_path, NULL, 0};

OBJECT(object_field_selector, F("apiVersion", STR), F("fieldPath", STR));
OBJECT(resource_field_selector, F("containerName", STR), F("resource", STR),
       F("divisor", &api_schema_quantity));
OBJECT(downward_api_file, F("path", STR), F("fieldRef", &object_field_selector),
       F("resourceFieldRef", &resource_field_selector), F("mode", INT));
LIST(downward_api_files, &downward_api_file);

/* EnvVarSource lives here because it shares the field selectors above. */
OBJECT(key_selector, F("name", STR), F("key", STR), F("optional", BOOL));
OBJECT_PUBLIC(api_schema_env_var_source, F("fieldRef", &object_field_selector),
              F("resourceFieldRef", &resource_field_selector), F("configMapKeyRef", &key_selector),
              F("secretKeyRef", &key_selector));

/* ---- The common sources ---------------------------------------------------------------------- */

OBJECT(host_path, F("path", STR), F("type", STR));
OBJECT(empty_dir, F("medium", STR), F("sizeLimit", &api_schema_quantity));
OBJECT(secret_source, F("secretName", STR), F("items", &api_schema_key_to_paths),
       F("defaultMode", INT), F("optional", BOOL));
OBJECT(configmap_source, F("name", STR), F("items", &api_schema_key_to_paths),
       F("defaultMode", INT), F("optional", BOOL));
OBJECT(nfs, F("server", STR), F("path", STR), F("readOnly", BOOL));
OBJECT(pvc_source, F("claimName", STR), F("readOnly", BOOL));
OBJECT(downward_api, F("items", &downward_api_files), F("defaultMode", INT));
OBJECT(csi, F("driver", STR), F("readOnly", BOOL), F("fsType", STR),
       F("volumeAttributes", &api_schema_string_map), F("nodePublishSecretRef", LOCAL_REF));
OBJECT(image, F("reference", STR), F("pullPolicy", STR));

/* ephemeral: a PVC template (metadata + PersistentVolumeClaimSpec). */
OBJECT(pvc_template, F("metadata", &api_schema_object_meta), F("spec", &api_schema_pvc_spec));
OBJECT(ephemeral, F("volumeClaimTemplate", &pvc_template));

/* projected */
OBJECT(secret_projection, F("name", STR), F("items", &api_schema_key_to_paths),
       F("optional", BOOL));
OBJECT(configmap_projection, F("name", STR), F("items", &api_schema_key_to_paths),
       F("optional", BOOL));
OBJECT(downward_api_projection, F("items", &downward_api_files));
OBJECT(token_projection, F("audience", STR), F("expirationSeconds", INT), F("path", STR));
OBJECT(trust_bundle_projection, F("name", STR), F("signerName", STR),
       F("labelSelector", &api_schema_label_selector), F("optional", BOOL), F("path", STR));
OBJECT(volume_projection, F("secret", &secret_projection),
       F("downwardAPI", &downward_api_projection), F("configMap", &configmap_projection),
       F("serviceAccountToken", &token_projection),
       F("clusterTrustBundle", &trust_bundle_projection));
LIST(volume_projections, &volume_projection);
OBJECT(projected, F("sources", &volume_projections), F("defaultMode", INT));

/* ---- In-tree vendor sources (deprecated upstream, still accepted) -----------------------------
 */

OBJECT(gce_pd, F("pdName", STR), F("fsType", STR), F("partition", INT), F("readOnly", BOOL));
OBJECT(aws_ebs, F("volumeID", STR), F("fsType", STR), F("partition", INT), F("readOnly", BOOL));
OBJECT(git_repo, F("repository", STR), F("revision", STR), F("directory", STR));
OBJECT(iscsi, F("targetPortal", STR), F("iqn", STR), F("lun", INT), F("iscsiInterface", STR),
       F("fsType", STR), F("readOnly", BOOL), F("portals", &api_schema_string_list),
       F("chapAuthDiscovery", BOOL), F("chapAuthSession", BOOL), F("secretRef", LOCAL_REF),
       F("initiatorName", STR));
OBJECT(glusterfs, F("endpoints", STR), F("path", STR), F("readOnly", BOOL));
OBJECT(rbd, F("monitors", &api_schema_string_list), F("image", STR), F("fsType", STR),
       F("pool", STR), F("user", STR), F("keyring", STR), F("secretRef", LOCAL_REF),
       F("readOnly", BOOL));
OBJECT(flex, F("driver", STR), F("fsType", STR), F("secretRef", LOCAL_REF), F("readOnly", BOOL),
       F("options", &api_schema_string_map));
OBJECT(cinder, F("volumeID", STR), F("fsType", STR), F("readOnly", BOOL),
       F("secretRef", LOCAL_REF));
OBJECT(cephfs, F("monitors", &api_schema_string_list), F("path", STR), F("user", STR),
       F("secretFile", STR), F("secretRef", LOCAL_REF), F("readOnly", BOOL));
OBJECT(flocker, F("datasetName", STR), F("datasetUUID", STR));
OBJECT(fc, F("targetWWNs", &api_schema_string_list), F("lun", INT), F("fsType", STR),
       F("readOnly", BOOL), F("wwids", &api_schema_string_list));
OBJECT(azure_file, F("secretName", STR), F("shareName", STR), F("readOnly", BOOL));
OBJECT(vsphere, F("volumePath", STR), F("fsType", STR), F("storagePolicyName", STR),
       F("storagePolicyID", STR));
OBJECT(quobyte, F("registry", STR), F("volume", STR), F("readOnly", BOOL), F("user", STR),
       F("group", STR), F("tenant", STR));
OBJECT(azure_disk, F("diskName", STR), F("diskURI", STR), F("cachingMode", STR), F("fsType", STR),
       F("readOnly", BOOL), F("kind", STR));
OBJECT(photon, F("pdID", STR), F("fsType", STR));
OBJECT(portworx, F("volumeID", STR), F("fsType", STR), F("readOnly", BOOL));
OBJECT(scaleio, F("gateway", STR), F("system", STR), F("secretRef", LOCAL_REF),
       F("sslEnabled", BOOL), F("protectionDomain", STR), F("storagePool", STR),
       F("storageMode", STR), F("volumeName", STR), F("fsType", STR), F("readOnly", BOOL));
OBJECT(storageos, F("volumeName", STR), F("volumeNamespace", STR), F("fsType", STR),
       F("readOnly", BOOL), F("secretRef", LOCAL_REF));

/* Volume = name + one VolumeSource (inlined in JSON). */
OBJECT_PUBLIC(api_schema_volume, F("name", STR), F("hostPath", &host_path),
              F("emptyDir", &empty_dir), F("gcePersistentDisk", &gce_pd),
              F("awsElasticBlockStore", &aws_ebs), F("gitRepo", &git_repo),
              F("secret", &secret_source), F("nfs", &nfs), F("iscsi", &iscsi),
              F("glusterfs", &glusterfs), F("persistentVolumeClaim", &pvc_source), F("rbd", &rbd),
              F("flexVolume", &flex), F("cinder", &cinder), F("cephfs", &cephfs),
              F("flocker", &flocker), F("downwardAPI", &downward_api), F("fc", &fc),
              F("azureFile", &azure_file), F("configMap", &configmap_source),
              F("vsphereVolume", &vsphere), F("quobyte", &quobyte), F("azureDisk", &azure_disk),
              F("photonPersistentDisk", &photon), F("projected", &projected),
              F("portworxVolume", &portworx), F("scaleIO", &scaleio), F("storageos", &storageos),
              F("csi", &csi), F("ephemeral", &ephemeral), F("image", &image));
