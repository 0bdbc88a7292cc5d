"""The portal's WebSocket: an organization's live events, for its members only."""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.live import bind_serving_loop, organization_group
from organizations.models import Membership


@database_sync_to_async
def membership_org_id(user, slug: str) -> int | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, organization__slug=slug)
        .values_list("organization_id", flat=True)
        .first()
    )


class PortalConsumer(AsyncJsonWebsocketConsumer):
    """Joins the organization's group and forwards its events to the page as JSON."""

    async def connect(self):
        bind_serving_loop(asyncio.get_running_loop())
        slug = self.scope["url_route"]["kwargs"]["org"]
        organization_id = await membership_org_id(self.scope["user"], slug)
        if organization_id is None:
            # Not logged in, or not a member: the same refusal either way.
            await self.close(code=4404)
            return
        self.group = organization_group(organization_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The page only listens; anything it sends is ignored.
        return

    async def live_events(self, message):
        await self.send_json({"events": message["events"]})
