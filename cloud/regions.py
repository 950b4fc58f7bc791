"""Where server-side encryption and SSE-KMS are available (design.md §5)."""

from django.conf import settings

SSE_REGIONS = {
    "cn-hangzhou": "China (Hangzhou)",
    "cn-shanghai": "China (Shanghai)",
    "cn-qingdao": "China (Qingdao)",
    "cn-beijing": "China (Beijing)",
    "cn-zhangjiakou": "China (Zhangjiakou)",
    "cn-huhehaote": "China (Hohhot)",
    "cn-wulanchabu": "China (Ulanqab)",
    "cn-shenzhen": "China (Shenzhen)",
    "cn-heyuan": "China (Heyuan)",
    "cn-guangzhou": "China (Guangzhou)",
    "cn-chengdu": "China (Chengdu)",
    "cn-hongkong": "China (Hong Kong)",
    "us-west-1": "US (Silicon Valley)",
    "us-east-1": "US (Virginia)",
    "ap-northeast-1": "Japan (Tokyo)",
    "ap-northeast-2": "South Korea (Seoul)",
    "ap-southeast-1": "Singapore",
    "ap-southeast-3": "Malaysia (Kuala Lumpur)",
    "ap-southeast-5": "Indonesia (Jakarta)",
    "ap-southeast-6": "Philippines (Manila)",
    "ap-southeast-7": "Thailand (Bangkok)",
    "eu-central-1": "Germany (Frankfurt)",
    "eu-west-1": "UK (London)",
    "me-east-1": "UAE (Dubai)",
}


def supports_sse(region: str) -> bool:
    return region in SSE_REGIONS


def supports_kms(region: str) -> bool:
    """KMS regions are data an operator can narrow (CONSOLE_KMS_REGIONS); by default every SSE region."""
    return region in (settings.CONSOLE_KMS_REGIONS or SSE_REGIONS)


def region_name(region: str) -> str:
    return SSE_REGIONS.get(region, region or "no region")
