# The same two-step set-up as the README, in a Debian 12 image with Node 20.
FROM node:20-bookworm
WORKDIR /opt/conference-bridge
COPY . .
# setup.sh installs the Debian packages, the prompt sets (en, es, fr, it) included.
RUN scripts/setup.sh && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# SIP (UDP and TCP), HTTP control, RTP range.
EXPOSE 5060/udp 5060/tcp 8080/tcp 20000-29999/udp
CMD ["npm", "start"]
