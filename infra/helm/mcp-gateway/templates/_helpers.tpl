{{/* Chart name, overridable. */}}
{{- define "mcp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name added unless the release name holds it. */}}
{{- define "mcp-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "mcp-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: mcp-gateway
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector of the controller's pods. */}}
{{- define "mcp-gateway.controllerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-gateway.name" . }}-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Name of the controller's Deployment and ServiceAccount. */}}
{{- define "mcp-gateway.controllerName" -}}
{{- printf "%s-controller" (include "mcp-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the cluster-scoped RBAC objects: unique per release and namespace. */}}
{{- define "mcp-gateway.clusterRoleName" -}}
{{- printf "%s-%s-controller" .Release.Namespace (include "mcp-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Images, the tag defaulting to the chart's appVersion. */}}
{{- define "mcp-gateway.gatewayImage" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
{{- define "mcp-gateway.controllerImage" -}}
{{ .Values.imageController.repository }}:{{ .Values.imageController.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Namespace of the target Gateway: gatewayRef.namespace or the release namespace. */}}
{{- define "mcp-gateway.gatewayNamespace" -}}
{{- .Values.mcpGatewayExtension.gatewayRef.namespace | default .Release.Namespace }}
{{- end }}

{{/* The controller's --gateway-env flags for the otel values (none while otel.endpoint is empty). */}}
{{- define "mcp-gateway.otelFlags" -}}
{{- with .Values.otel }}
{{- if .endpoint }}
{{- if not (has .protocol (list "grpc" "http/protobuf")) }}
{{- fail (printf "otel.protocol must be grpc or http/protobuf (got %q)" .protocol) }}
{{- end }}
- {{ printf "--gateway-env=OTEL_EXPORTER_OTLP_ENDPOINT=%s" .endpoint | quote }}
- {{ printf "--gateway-env=OTEL_EXPORTER_OTLP_PROTOCOL=%s" .protocol | quote }}
{{- with .serviceName }}
- {{ printf "--gateway-env=OTEL_SERVICE_NAME=%s" . | quote }}
{{- end }}
{{- with .resourceAttributes }}
{{- $pairs := list }}
{{- range $key, $value := . }}
{{- if or (contains "," (toString $key)) (contains "=" (toString $key)) (contains "," (toString $value)) (contains "=" (toString $value)) }}
{{- fail (printf "otel.resourceAttributes.%s: keys and values may not hold ',' or '='" $key) }}
{{- end }}
{{- $pairs = append $pairs (printf "%s=%v" $key $value) }}
{{- end }}
- {{ printf "--gateway-env=OTEL_RESOURCE_ATTRIBUTES=%s" (join "," $pairs) | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Namespaces whose gateways the monitor scrapes. */}}
{{- define "mcp-gateway.monitoredNamespaces" -}}
{{- if .Values.monitoring.namespaces }}
{{- toYaml .Values.monitoring.namespaces }}
{{- else }}
- {{ .Release.Namespace }}
{{- end }}
{{- end }}
